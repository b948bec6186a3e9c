select
    {{ weir.surrogate_key(['customer_id']) }} as customer_key,
    customer_id,
    first_name || ' ' || last_name as full_name,
    country
from {{ ref('stg_customers') }}
