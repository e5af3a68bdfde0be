-- Sample data for jobs/acme/orders_postgres.yaml (PostgreSQL).
CREATE TABLE orders (
  order_id    bigint PRIMARY KEY,
  customer    text NOT NULL,
  status      text NOT NULL,
  total       numeric(12, 2) NOT NULL,
  items       text[],
  placed_at   timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
INSERT INTO orders
SELECT g, 'customer ' || (g % 17), (ARRAY['open', 'paid', 'shipped'])[1 + g % 3], round((g * 13.37)::numeric % 1000, 2),
       ARRAY['sku-' || g, 'sku-' || (g + 1)], TIMESTAMPTZ '2024-05-01 08:00:00+00' + g * INTERVAL '1 hour',
       TIMESTAMPTZ '2024-05-01 08:00:00+00' + g * INTERVAL '1 hour'
FROM generate_series(1, 120) g;
