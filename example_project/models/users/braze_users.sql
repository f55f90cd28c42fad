with order_totals as (

    select
        customer_id,
        sum(amount) as lifetime_value,
        count(*) as order_count,
        max(ordered_at) as last_order_at
    from {{ ref('stg_orders') }}
    group by customer_id

)

select
    customers.customer_id,
    customers.first_name,
    customers.last_name,
    customers.email,
    customers.country,
    coalesce(order_totals.lifetime_value, 0) as lifetime_value,
    coalesce(order_totals.order_count, 0) as order_count,
    order_totals.last_order_at,
    customers.is_vip,
    customers.plan
from {{ ref('stg_customers') }} as customers
left join order_totals on order_totals.customer_id = customers.customer_id
