select
    order_item_id,
    order_id,
    product_name,
    price,
    quantity,
    currency
from {{ ref('order_items') }}
