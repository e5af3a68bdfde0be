-- Sample data for jobs/acme/customers_mysql.yaml (MySQL 8 / MariaDB 10.5+).
SET NAMES utf8mb4;
CREATE TABLE customers (
  customer_id  int unsigned PRIMARY KEY,
  name         varchar(100) NOT NULL,
  email        varchar(255),
  tier         enum('free', 'pro', 'enterprise') NOT NULL,
  balance      decimal(12, 2) NOT NULL,
  signed_up    date NOT NULL,
  updated_at   datetime(6) NOT NULL
) DEFAULT CHARSET = utf8mb4;
INSERT INTO customers VALUES
  (1, 'Ada Lovelace', 'ada@example.com', 'enterprise', 1234.50, '2023-01-10', '2024-05-01 09:00:00'),
  (2, 'Alan Turing', 'alan@example.com', 'pro', 0.00, '2023-02-11', '2024-05-01 10:00:00'),
  (3, 'Grace Hopper', NULL, 'free', -20.00, '2023-03-12', '2024-05-02 11:30:00'),
  (4, 'Zoë 🚀 Ünicode', 'zoe@example.com', 'pro', 99.99, '2023-04-13', '2024-05-03 12:00:00'),
  (5, 'Katherine Johnson', 'kj@example.com', 'enterprise', 1000000.01, '2023-05-14', '2024-05-04 13:15:00');
