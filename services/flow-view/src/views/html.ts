// The templates and UK time formats live in @imaging/html (shared with the learning report, the safety case
// and the conformance report); the views import them from here.
export { ageText, clockTime, dateTime, escapeHtml, Html, html, type Part, trusted } from '@imaging/html';
