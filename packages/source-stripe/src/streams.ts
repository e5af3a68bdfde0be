/** What the source knows of each Stripe list it reads. */
export interface StripeStreamInfo {
  /** The SDK resource (`stripe.paymentIntents`). */
  resource: string;
  /** The list endpoint, for logs and metrics. */
  path: string;
  /** Event types that carry a changed / deleted object of this stream (Events API, at most 20). */
  updated: string[];
  deleted: string[];
  /** Extra list parameters (subscriptions: canceled ones are left out unless `status=all`). */
  listParams?: Record<string, string>;
}

export const STRIPE_STREAMS: Record<string, StripeStreamInfo> = {
  customers: { resource: 'customers', path: '/v1/customers', updated: ['customer.updated'], deleted: ['customer.deleted'] },
  charges: {
    resource: 'charges',
    path: '/v1/charges',
    updated: ['charge.updated', 'charge.captured', 'charge.refunded', 'charge.succeeded', 'charge.failed', 'charge.pending', 'charge.expired'],
    deleted: [],
  },
  invoices: {
    resource: 'invoices',
    path: '/v1/invoices',
    updated: ['invoice.updated', 'invoice.finalized', 'invoice.paid', 'invoice.payment_failed', 'invoice.payment_succeeded', 'invoice.voided', 'invoice.marked_uncollectible', 'invoice.sent'],
    deleted: ['invoice.deleted'],
  },
  subscriptions: {
    resource: 'subscriptions',
    path: '/v1/subscriptions',
    updated: ['customer.subscription.updated', 'customer.subscription.paused', 'customer.subscription.resumed', 'customer.subscription.pending_update_applied', 'customer.subscription.pending_update_expired', 'customer.subscription.trial_will_end'],
    deleted: ['customer.subscription.deleted'],
    listParams: { status: 'all' },
  },
  payment_intents: {
    resource: 'paymentIntents',
    path: '/v1/payment_intents',
    updated: ['payment_intent.amount_capturable_updated', 'payment_intent.canceled', 'payment_intent.partially_funded', 'payment_intent.payment_failed', 'payment_intent.processing', 'payment_intent.requires_action', 'payment_intent.succeeded'],
    deleted: [],
  },
  refunds: { resource: 'refunds', path: '/v1/refunds', updated: ['charge.refund.updated'], deleted: [] },
  products: { resource: 'products', path: '/v1/products', updated: ['product.updated'], deleted: ['product.deleted'] },
  prices: { resource: 'prices', path: '/v1/prices', updated: ['price.updated'], deleted: ['price.deleted'] },
  balance_transactions: { resource: 'balanceTransactions', path: '/v1/balance_transactions', updated: [], deleted: [] },
  disputes: {
    resource: 'disputes',
    path: '/v1/disputes',
    updated: ['charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_reinstated', 'charge.dispute.funds_withdrawn'],
    deleted: [],
  },
  events: { resource: 'events', path: '/v1/events', updated: [], deleted: [] },
};

export const STREAM_NAMES = Object.keys(STRIPE_STREAMS) as [string, ...string[]];

/** Columns the source adds to every stream: deletion markers from the Events API. */
export const DELETED_COLUMN = '_deleted';
export const DELETED_AT_COLUMN = '_deleted_at';
