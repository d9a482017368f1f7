/**
 * The DCB0129 clinical risk matrix: severity (consequence) by likelihood gives a risk class from 1 to 5.
 * This is the matrix NHS England publishes with its hazard logs (e.g. the UK Core Hazard Log), written
 * once here: the hazard log's schema checks every stated risk class against it.
 */
export const SEVERITIES = ['minor', 'significant', 'considerable', 'major', 'catastrophic'] as const;
export const LIKELIHOODS = ['very low', 'low', 'medium', 'high', 'very high'] as const;

export type Severity = (typeof SEVERITIES)[number];
export type Likelihood = (typeof LIKELIHOODS)[number];
export type RiskClass = 1 | 2 | 3 | 4 | 5;

/** Rows by likelihood (very low first), columns by severity (minor first). */
const MATRIX: Record<Likelihood, readonly [RiskClass, RiskClass, RiskClass, RiskClass, RiskClass]> = {
  'very low': [1, 1, 2, 2, 3],
  low: [1, 2, 2, 3, 4],
  medium: [2, 2, 3, 3, 4],
  high: [2, 3, 3, 4, 5],
  'very high': [3, 4, 4, 5, 5],
};

export function riskClass(severity: Severity, likelihood: Likelihood): RiskClass {
  return MATRIX[likelihood][SEVERITIES.indexOf(severity)] as RiskClass;
}

/** What each class means for the manufacturer (DCB0129's acceptability). */
export const RISK_MEANING: Record<RiskClass, string> = {
  1: 'Acceptable: no further action required',
  2: 'Acceptable where the cost of further reduction outweighs the benefit',
  3: 'Undesirable: acceptable only when further risk reduction is impractical',
  4: 'Mandatory elimination or control to reduce the risk to an acceptable level',
  5: 'Unacceptable',
};

/** The highest residual class a hazard may have for the system to be released (ALARP at 3). */
export const HIGHEST_ACCEPTABLE_RESIDUAL: RiskClass = 3;
