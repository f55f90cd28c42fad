{#- Fails for every non-null value longer than `max_length` characters (Braze's limit for
    string attributes, event properties and product ids is 255). -#}
{% test braze_string_length(model, column_name, max_length=255) %}

select
    {{ column_name }} as value,
    {{ dbt_braze.length_expr('cast(' ~ column_name ~ ' as ' ~ dbt.type_string() ~ ')') }}
        as value_length
from {{ model }}
where {{ column_name }} is not null
    and {{ dbt_braze.length_expr('cast(' ~ column_name ~ ' as ' ~ dbt.type_string() ~ ')') }}
        > {{ max_length }}

{% endtest %}
