{#- Where and how the hook writes. Each piece is dispatched in the dbt_braze namespace, so a
    project can override it with a `dispatch:` block (macro_namespace: dbt_braze). They must
    agree with what dbt-braze's Python side reads: same schema, same columns, same clock. -#}

{#- The state schema: vars.dbt_braze.state_schema, else "<target schema>_braze". -#}
{% macro state_schema_name() %}
    {{ return(adapter.dispatch('state_schema_name', 'dbt_braze')()) }}
{% endmacro %}

{% macro default__state_schema_name() %}
    {%- set settings = var('dbt_braze', {}) -%}
    {%- set configured = settings.get('state_schema') if settings is mapping else none -%}
    {{ return(configured or target.schema ~ '_braze') }}
{% endmacro %}


{#- The relation of the rebuilds table, in the state schema of the target's database. -#}
{% macro rebuilds_relation() %}
    {{ return(api.Relation.create(
        database=target.database,
        schema=dbt_braze.state_schema_name(),
        identifier='rebuilds',
        type='table',
    )) }}
{% endmacro %}


{#- Create the state schema and the rebuilds table when they are missing. -#}
{% macro create_rebuilds_table(relation) %}
    {{ return(adapter.dispatch('create_rebuilds_table', 'dbt_braze')(relation)) }}
{% endmacro %}

{% macro default__create_rebuilds_table(relation) %}
    {%- do adapter.create_schema(relation) -%}
    {%- set text, timestamp = dbt.type_string(), dbt.type_timestamp() -%}
    {%- do run_query(
        'create table if not exists ' ~ relation ~ ' (invocation_id ' ~ text
        ~ ', model_id ' ~ text ~ ', relation_name ' ~ text ~ ', status ' ~ text
        ~ ', rebuilt_at ' ~ timestamp ~ ')'
    ) -%}
{% endmacro %}

{#- Postgres and DuckDB: the very DDL of dbt_braze/state.py, whichever side runs first. -#}
{% macro postgres__create_rebuilds_table(relation) %}
    {%- do adapter.create_schema(relation) -%}
    {%- do run_query(
        'create table if not exists ' ~ relation ~ ' (invocation_id text, model_id text, '
        ~ 'relation_name text, status text, rebuilt_at timestamp)'
    ) -%}
{% endmacro %}

{% macro duckdb__create_rebuilds_table(relation) %}
    {{ return(dbt_braze.postgres__create_rebuilds_table(relation)) }}
{% endmacro %}


{#- The time a row is stamped with. The sync compares it with its own last_synced_at, which it
    writes as the warehouse's current_timestamp into a timestamp column: this must match. -#}
{% macro state_timestamp() %}
    {{ return(adapter.dispatch('state_timestamp', 'dbt_braze')()) }}
{% endmacro %}

{% macro default__state_timestamp() -%}
    cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro postgres__state_timestamp() -%}
    cast(current_timestamp as timestamp)
{%- endmacro %}

{% macro duckdb__state_timestamp() -%}
    cast(current_timestamp as timestamp)
{%- endmacro %}


{#- One insert of every row (dicts of model_id, relation_name, status) for this invocation. -#}
{% macro insert_rebuilds_sql(relation, rows) %}
    {{ return(adapter.dispatch('insert_rebuilds_sql', 'dbt_braze')(relation, rows)) }}
{% endmacro %}

{% macro default__insert_rebuilds_sql(relation, rows) -%}
    insert into {{ relation }} (invocation_id, model_id, relation_name, status, rebuilt_at)
    values
    {%- for row in rows %}
    ({{ dbt_braze.sql_literal(invocation_id) }}, {{ dbt_braze.sql_literal(row.model_id) }},
     {{ dbt_braze.sql_literal(row.relation_name) }}, {{ dbt_braze.sql_literal(row.status) }},
     {{ dbt_braze.state_timestamp() }}){{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- A string as a SQL literal (quotes doubled), or null. -#}
{% macro sql_literal(value) -%}
    {%- if value is none -%} null {%- else -%} '{{ value | string | replace("'", "''") }}' {%- endif -%}
{%- endmacro %}
