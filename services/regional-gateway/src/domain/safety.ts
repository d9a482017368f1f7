import { checkTurnarounds } from './breaches.ts';
import type { TurnaroundPass } from './breaches.ts';
import { escalateOverdueAlerts } from './escalation.ts';
import type { EscalationPass } from './escalation.ts';
import type { GatewayDeps } from './ports.ts';
import { safetyOn } from './ports.ts';

/** What one pass of the safety job did. */
export interface SafetyPass {
  alerts: EscalationPass;
  turnaround: TurnaroundPass;
}

/**
 * One pass of the safety job (jobs.ts): the overdue alerts (escalation.ts), then the turnaround watches
 * and breaches (breaches.ts), each read through the next-check index. Nothing when the safety layer is off.
 */
export async function runSafetyPass(deps: GatewayDeps): Promise<SafetyPass | undefined> {
  if (!safetyOn(deps)) return undefined;
  return { alerts: await escalateOverdueAlerts(deps), turnaround: await checkTurnarounds(deps) };
}
