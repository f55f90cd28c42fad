select
    customer_id,
    first_name,
    last_name,
    lower(email) as email,
    upper(country) as country,
    signup_date,
    is_vip,
    plan
from {{ ref('customers') }}
