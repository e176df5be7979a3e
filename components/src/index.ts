// The provider first: elements upgraded after it find their connection at once.
export { DmProvider } from './shared/provider.js';
export { DmCollectionList, type CollectionRecord } from './collection-list/collection-list.js';
export {
  DmBooking,
  type Booking,
  type BookingAvailability,
  type BookingService,
  type BookingSlot,
} from './booking/booking.js';
export {
  DEFAULT_CONTACT_FIELDS,
  DmContactForm,
  type ContactFieldName,
  type ContactFormField,
  type ContactFormReceipt,
  type ContactFormSubmission,
} from './crm/contact-form.js';
export {
  DmCrmPipeline,
  type CrmDeal,
  type CrmPipeline,
  type CrmPipelineBoard,
  type CrmStage,
} from './crm/crm-pipeline.js';
export { DmCrmContact, type CrmCompany, type CrmContact, type CrmTimelineEntry } from './crm/crm-contact.js';
export * from './shared/index.js';
