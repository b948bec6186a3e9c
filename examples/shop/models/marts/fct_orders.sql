{% set counted = ['completed', 'shipped'] %}
select
    {{ weir.surrogate_key(['o.order_id']) }} as order_key,
    c.customer_key,
    to_char(o.order_date, 'YYYYMMDD')::int as date_key,
    o.order_id,
    o.status,
    o.amount,
    o.status in ({% for s in counted %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %}) as is_revenue
from {{ ref('stg_orders') }} o
join {{ ref('dim_customers') }} c on c.customer_id = o.customer_id
