{#- Fails for every row without a time: Braze requires one on each event and purchase. -#}
{% test braze_time_present(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} is null

{% endtest %}
