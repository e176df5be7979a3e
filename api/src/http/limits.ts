/** The largest request body the API reads (body-parser's notation). */
export const BODY_LIMIT = '100kb';
/** Publishing a module version: its manifest and its bundle, base64-encoded. */
export const PUBLISH_BODY_LIMIT = '4mb';
