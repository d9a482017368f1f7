package org.imagingconnect.hapi;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;

/**
 * {@code $expunge} with {@code expungeEverything=true} ignores the partition in the URL: it wipes
 * every partition and the partition list itself. On a server shared by several test suites that is
 * never what a caller means, so it is refused (403) unless HAPI_ALLOW_EXPUNGE_EVERYTHING=true.
 */
@Interceptor
public class ExpungeEverythingGuard {

	@Hook(Pointcut.STORAGE_PRESTORAGE_EXPUNGE_EVERYTHING)
	public void refuse() {
		throw new ForbiddenOperationException(
				"$expunge expungeEverything is disabled on this server: it would wipe every partition. "
						+ "Use a fresh partition per test run, or set HAPI_ALLOW_EXPUNGE_EVERYTHING=true.");
	}
}
