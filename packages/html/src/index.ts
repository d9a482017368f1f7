export { escapeHtml, Html, html, type Part, trusted } from './template.ts';
export { nhsukDist, nhsukStylesheet } from './nhsuk.ts';
export { ageText, clockTime, dateTime } from './uk-time.ts';
