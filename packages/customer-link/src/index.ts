export { CustomerLinkRegistry, type RepointCustomer } from './registry.js';
export { applyCustomerMerged, createCustomerLinkConsumer, customerLinkGroupId, CUSTOMER_MERGED, type CustomerLinkConsumerOptions } from './consumer.js';
