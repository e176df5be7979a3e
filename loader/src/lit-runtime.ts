// The one copy of Lit a page loads, however many modules it shows: module bundles import `lit` from here.
export * from 'lit';
