export { CustomerLinkRegistry, ERASED_TEXT, type EraseCustomer, type RepointCustomer } from './registry.js';
export { applyCustomerErased, applyCustomerMerged, createCustomerLinkConsumer, customerLinkGroupId, CUSTOMER_ERASED, CUSTOMER_MERGED, type CustomerLinkConsumerOptions } from './consumer.js';
