package org.imagingconnect.hapi;

import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.Banner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.web.embedded.EmbeddedWebServerFactoryCustomizerAutoConfiguration;
import org.springframework.boot.autoconfigure.web.servlet.ServletWebServerFactoryAutoConfiguration;
import org.springframework.context.annotation.Import;

/**
 * Launcher: an embedded Tomcat serving HAPI's RestfulServer at /fhir. No classpath scanning and
 * no Spring Boot auto-configuration beyond the servlet web server itself; every setting comes
 * from {@link ServerSettings} (environment variables).
 */
@SpringBootConfiguration
@Import({
	ServletWebServerFactoryAutoConfiguration.class,
	EmbeddedWebServerFactoryCustomizerAutoConfiguration.class,
	FhirServerConfig.class,
	StartupTasks.class
})
public class HapiServerApplication {

	public static void main(String[] args) {
		ServerSettings settings;
		try {
			settings = ServerSettings.fromEnvironment();
		} catch (IllegalArgumentException e) {
			// a bad setting is the operator's to fix: one line, not a stack trace
			System.err.println("hapi-fhir: invalid configuration: " + e.getMessage());
			System.exit(2);
			return;
		}

		Map<String, Object> props = new HashMap<>();
		props.put("server.port", settings.port);
		props.put("server.address", settings.bindAddress);
		// FHIR token searches put '|' in query strings; Tomcat rejects it unless relaxed
		props.put("server.tomcat.relaxed-query-chars", "|,[,],{,}");
		props.put("server.tomcat.relaxed-path-chars", "|");
		props.put("server.tomcat.threads.max", 50);
		props.put("server.shutdown", "graceful");
		// HAPI's configuration classes reference each other in cycles
		props.put("spring.main.allow-circular-references", true);
		props.put("spring.jmx.enabled", false);

		SpringApplication app = new SpringApplication(HapiServerApplication.class);
		app.setBannerMode(Banner.Mode.OFF);
		app.setLogStartupInfo(false);
		app.setDefaultProperties(props);
		app.addInitializers(context -> context.getBeanFactory().registerSingleton("serverSettings", settings));
		app.run(args);
	}
}
