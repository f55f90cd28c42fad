{#- The number of characters (not bytes) in a string expression, which is how Braze counts
    its 255-character limit. Dispatched so a warehouse whose length() counts bytes can be
    overridden the dbt way. -#}
{% macro length_expr(expression) %}
    {{ return(adapter.dispatch('length_expr', 'dbt_braze')(expression)) }}
{% endmacro %}

{% macro default__length_expr(expression) -%}
    length({{ expression }})
{%- endmacro %}

{% macro postgres__length_expr(expression) -%}
    char_length({{ expression }})
{%- endmacro %}
