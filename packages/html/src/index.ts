export { escapeHtml, Html, html, type Part, trusted } from './template.ts';
export { NHSUK_DIST, nhsukStylesheet } from './nhsuk.ts';
export { ageText, clockTime, dateTime } from './uk-time.ts';
