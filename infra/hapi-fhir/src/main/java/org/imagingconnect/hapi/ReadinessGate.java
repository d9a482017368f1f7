package org.imagingconnect.hapi;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Answers 503 to every FHIR request until start-up has finished (partitions created, validator
 * warmed up). So the first 200 from GET /fhir/metadata means the server can really serve FHIR.
 */
public class ReadinessGate extends OncePerRequestFilter {

	private static final byte[] NOT_READY = ("{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
					+ "\"severity\":\"error\",\"code\":\"transient\","
					+ "\"diagnostics\":\"HAPI FHIR server is starting; retry shortly\"}]}")
			.getBytes(StandardCharsets.UTF_8);

	private volatile boolean ready;

	public void open() {
		ready = true;
	}

	public boolean isReady() {
		return ready;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (ready) {
			chain.doFilter(request, response);
			return;
		}
		response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
		response.setHeader("Retry-After", "1");
		response.setContentType("application/fhir+json;charset=UTF-8");
		response.setContentLength(NOT_READY.length);
		response.getOutputStream().write(NOT_READY);
	}
}
