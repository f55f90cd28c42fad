{#- Fails for every identifier value Braze could not use as one user: null, empty, or shared
    by more than one row. One failing row per bad value, with how many rows carry it. -#}
{% test braze_identifier(model, column_name) %}

with identifiers as (

    select
        {{ column_name }} as identifier,
        count(*) as row_count
    from {{ model }}
    group by {{ column_name }}

)

select identifier, row_count
from identifiers
where identifier is null
    or trim(cast(identifier as {{ dbt.type_string() }})) = ''
    or row_count > 1

{% endtest %}
