{#- The opt-in on-run-end hook: record, in the state schema's `rebuilds` table, which Braze
    models this invocation rebuilt successfully, so `dbt-braze sync` can skip the others.
    Add it to your own dbt_project.yml:
        on-run-end: ["{{ dbt_braze.on_run_end(results) }}"]
    and set the var `dbt_braze_record_rebuilds: false` to switch it off (e.g. for a target).
    Besides one row per rebuilt model, every invocation leaves one row with status
    'invocation' and no model: the sync's proof that the hook was on for that dbt command. -#}
{% macro on_run_end(results) %}
    {%- if not dbt_braze.should_record_rebuilds() -%}
        {{ return('') }}
    {%- endif -%}

    {%- set rows = [{'model_id': none, 'relation_name': none, 'status': 'invocation'}] -%}
    {%- for result in results -%}
        {%- if dbt_braze.is_braze_model(result.node) and result.status == 'success' -%}
            {%- do rows.append({
                'model_id': result.node.unique_id,
                'relation_name': result.node.relation_name,
                'status': 'success',
            }) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- set relation = dbt_braze.rebuilds_relation() -%}
    {%- do dbt_braze.create_rebuilds_table(relation) -%}
    {#- In a transaction dbt knows is open, committed explicitly: hooks' DML is not committed
        for us on every adapter (dbt-core #2495, #6167). -#}
    {%- call statement('dbt_braze_record_rebuilds', auto_begin=True) -%}
        {{ dbt_braze.insert_rebuilds_sql(relation, rows) }}
    {%- endcall -%}
    {%- do adapter.commit() -%}
    {{ return('') }}
{% endmacro %}


{#- False when there is nothing to record: at parse time, for commands that build nothing, or
    when the var dbt_braze_record_rebuilds is false. -#}
{% macro should_record_rebuilds() %}
    {%- if not execute or not var('dbt_braze_record_rebuilds', true) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set builds_nothing = ['compile', 'docs', 'ls', 'list', 'show', 'parse', 'run-operation'] -%}
    {{ return(flags.WHICH not in builds_nothing) }}
{% endmacro %}


{#- True for a model node that declares meta.braze, wherever dbt put the meta. -#}
{% macro is_braze_model(node) %}
    {%- if node is none or node.resource_type != 'model' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set config_meta = (node.config.meta if node.config is not none else none) or {} -%}
    {{ return('braze' in config_meta or 'braze' in (node.meta or {})) }}
{% endmacro %}
