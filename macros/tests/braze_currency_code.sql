{#- Fails for every currency that is not a three-letter upper-case code (ISO 4217 alpha, as
    Braze requires on purchases). Nulls fail too: a purchase without a currency is rejected. -#}
{#- Known limitation: checks the shape of the code only, not that ISO 4217 lists it. -#}
{% test braze_currency_code(model, column_name) %}

select {{ column_name }} as currency, count(*) as row_count
from {{ model }}
where {{ column_name }} is null
    or not {{ dbt_braze.regex_matches(column_name, '[A-Z]{3}') }}
group by {{ column_name }}

{% endtest %}
