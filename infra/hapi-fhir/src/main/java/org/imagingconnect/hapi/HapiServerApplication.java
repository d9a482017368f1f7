package org.imagingconnect.hapi;

import com.zaxxer.hikari.HikariDataSource;
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
 * from {@link ServerSettings} (environment variables). With the argument {@code migrate} it only
 * brings the database schema up to this HAPI release ({@link SchemaMigration}) and exits.
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
		if (args.length > 0) {
			if (args.length == 1 && args[0].equals("migrate")) {
				System.exit(migrateOnly(settings));
			}
			System.err.println("hapi-fhir: usage: java -jar hapi-fhir-server.jar [migrate]");
			System.exit(2);
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

	/** Runs HAPI's migration tasks on the configured database, without the server: 0 when done. */
	private static int migrateOnly(ServerSettings settings) {
		try (HikariDataSource dataSource = FhirServerConfig.newDataSource(settings)) {
			SchemaMigration.Outcome outcome = SchemaMigration.migrate(settings, dataSource);
			System.out.println("hapi-fhir: migrated " + settings.dbUrlForLog() + ": " + outcome.describe());
			return 0;
		} catch (RuntimeException e) {
			// HAPI has logged the failing task and its SQL error; this line is for the operator's script
			System.err.println("hapi-fhir: migration of " + settings.dbUrlForLog() + " failed: " + e.getMessage());
			return 1;
		}
	}
}
