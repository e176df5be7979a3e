/** The largest request body the API reads (body-parser's notation). */
export const BODY_LIMIT = '100kb';
