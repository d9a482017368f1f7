package org.imagingconnect.hapi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every setting of the server, read once from environment variables (a JVM system property of the
 * same name wins, which is handy for tests). The README lists them; keep the two in step.
 */
public final class ServerSettings {

	public enum Database {
		H2_FILE,
		H2_MEMORY,
		POSTGRES
	}

	public static final String DEFAULT_PARTITIONS = "hub,north,midlands,south,conformance";

	public final int port;
	public final String bindAddress;
	public final Path dataDir;
	public final String dbUrl;
	public final String dbUser;
	public final String dbPassword;
	public final int dbPoolSize;
	public final Database database;
	public final boolean partitioning;
	public final List<String> partitions;
	public final String serverAddress;
	public final int defaultPageSize;
	public final int maxPageSize;
	public final Long searchCacheMillis;
	public final boolean expunge;
	public final boolean allowExpungeEverything;
	public final boolean resthookSubscriptions;
	public final boolean requestLog;
	public final boolean warmUpValidator;

	private ServerSettings(Map<String, String> env) {
		Lookup in = new Lookup(env);
		port = in.integer("HAPI_PORT", 8080);
		bindAddress = in.text("HAPI_BIND", "127.0.0.1");
		dataDir = Path.of(in.text("HAPI_DATA_DIR", ".cache/h2")).toAbsolutePath().normalize();

		String url = in.text("HAPI_DB_URL", "");
		if (url.isEmpty() || url.equals("h2")) {
			// on disk, survives restarts; AUTO_SERVER off: one process owns the file
			url = "jdbc:h2:file:" + dataDir.resolve("hapi") + ";DB_CLOSE_ON_EXIT=FALSE";
		} else if (url.equals("mem") || url.equals("h2:mem")) {
			url = "jdbc:h2:mem:hapi;DB_CLOSE_DELAY=-1";
		}
		dbUrl = url;
		if (url.startsWith("jdbc:h2:mem:")) {
			database = Database.H2_MEMORY;
		} else if (url.startsWith("jdbc:h2:")) {
			database = Database.H2_FILE;
		} else if (url.startsWith("jdbc:postgresql:")) {
			database = Database.POSTGRES;
		} else {
			throw new IllegalArgumentException(
					"HAPI_DB_URL must be empty, 'mem', a jdbc:h2: URL or a jdbc:postgresql: URL, not: " + url);
		}
		boolean h2 = database != Database.POSTGRES;
		dbUser = in.text("HAPI_DB_USER", h2 ? "sa" : System.getProperty("user.name", "postgres"));
		dbPassword = in.secret("HAPI_DB_PASSWORD");
		dbPoolSize = in.integer("HAPI_DB_POOL_SIZE", 10);

		partitioning = in.bool("HAPI_PARTITIONING", true);
		List<String> names = new ArrayList<>();
		for (String name : in.text("HAPI_PARTITIONS", DEFAULT_PARTITIONS).split("[,\\s]+")) {
			if (!name.isBlank()) {
				names.add(name.trim());
			}
		}
		partitions = List.copyOf(names);

		serverAddress = in.text("HAPI_SERVER_ADDRESS", "");
		defaultPageSize = in.integer("HAPI_DEFAULT_PAGE_SIZE", 20);
		maxPageSize = in.integer("HAPI_MAX_PAGE_SIZE", 200);
		long cache = in.integer("HAPI_SEARCH_CACHE_MS", 0);
		searchCacheMillis = cache > 0 ? cache : null;
		expunge = in.bool("HAPI_EXPUNGE", true);
		allowExpungeEverything = in.bool("HAPI_ALLOW_EXPUNGE_EVERYTHING", false);
		// Off unless asked for: with rest-hook subscriptions on, HAPI queues, re-reads and matches every
		// write, subscribed or not (a quarter to a third of its CPU per order in the bench; see
		// docs/performance.md), and any client may make it call out to a URL of its choosing. Nothing in
		// the pathway subscribes: the gateways poll.
		resthookSubscriptions = in.bool("HAPI_SUBSCRIPTIONS", false);
		requestLog = in.bool("HAPI_REQUEST_LOG", false);
		warmUpValidator = in.bool("HAPI_WARMUP_VALIDATOR", true);
	}

	public static ServerSettings fromEnvironment() {
		return new ServerSettings(System.getenv());
	}

	public String hibernateDialect() {
		return database == Database.POSTGRES
				? "ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect"
				: "ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect";
	}

	public String jdbcDriver() {
		return database == Database.POSTGRES ? "org.postgresql.Driver" : "org.h2.Driver";
	}

	/** The JDBC URL with any password in it masked, for the log. */
	public String dbUrlForLog() {
		return dbUrl.replaceAll("(?i)(password=)[^&;]*", "$1***");
	}

	private static final class Lookup {
		private final Map<String, String> env;

		Lookup(Map<String, String> env) {
			this.env = env;
		}

		String text(String name, String fallback) {
			String value = System.getProperty(name, env.get(name));
			return value == null || value.isBlank() ? fallback : value.trim();
		}

		/**
		 * A secret: the variable itself, or the file named by NAME_FILE (read once, trailing newlines
		 * dropped), so that a container gets it as a mounted secret rather than an environment value.
		 * Both set, or a file that cannot be read or is empty, stops the start with the reason.
		 */
		String secret(String name) {
			String direct = text(name, "");
			String path = text(name + "_FILE", "");
			if (path.isEmpty()) {
				return direct;
			}
			if (!direct.isEmpty()) {
				throw new IllegalArgumentException("set " + name + " or " + name + "_FILE, not both");
			}
			String value;
			try {
				value = Files.readString(Path.of(path)).replaceFirst("[\\r\\n]+$", "");
			} catch (IOException | RuntimeException e) {
				throw new IllegalArgumentException(name + "_FILE: cannot read " + path + " (" + e.getClass().getSimpleName() + ")");
			}
			if (value.isEmpty()) {
				throw new IllegalArgumentException(name + "_FILE: " + path + " is empty");
			}
			return value;
		}

		int integer(String name, int fallback) {
			String value = text(name, "");
			if (value.isEmpty()) {
				return fallback;
			}
			try {
				return Integer.parseInt(value);
			} catch (NumberFormatException e) {
				throw new IllegalArgumentException(name + " must be a whole number, not: " + value);
			}
		}

		boolean bool(String name, boolean fallback) {
			String value = text(name, "").toLowerCase(Locale.ROOT);
			return switch (value) {
				case "" -> fallback;
				case "true", "1", "yes", "on" -> true;
				case "false", "0", "no", "off" -> false;
				default -> throw new IllegalArgumentException(name + " must be true or false, not: " + value);
			};
		}
	}
}
