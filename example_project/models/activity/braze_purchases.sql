select
    items.order_item_id,
    orders.customer_id,
    items.product_name,
    items.price,
    items.currency,
    items.quantity,
    orders.ordered_at
from {{ ref('stg_order_items') }} as items
inner join {{ ref('stg_orders') }} as orders on orders.order_id = items.order_id
