package org.imagingconnect.hapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.model.HistoryCountModeEnum;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.binstore.DatabaseBinaryContentStorageSvcImpl;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.partition.PartitionManagementProvider;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.SubscriptionTriggeringProvider;
import ca.uhn.fhir.jpa.provider.ValueSetOperationProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.jpa.subscription.match.config.SubscriptionProcessorConfig;
import ca.uhn.fhir.jpa.subscription.match.deliver.email.IEmailSender;
import ca.uhn.fhir.jpa.subscription.submit.config.SubscriptionSubmitterConfig;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.HardcodedServerAddressStrategy;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.LoggingInterceptor;
import ca.uhn.fhir.rest.server.interceptor.partition.RequestTenantPartitionInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.tenant.UrlBaseTenantIdentificationStrategy;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import jakarta.persistence.EntityManagerFactory;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy;
import org.hibernate.cfg.AvailableSettings;
import org.hibernate.search.mapper.orm.cfg.HibernateOrmMapperSettings;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

/**
 * The HAPI FHIR JPA server, FHIR R4: HAPI's own Spring configuration classes plus the few beans
 * HAPI expects its host to provide (data source, entity manager factory, storage settings, the
 * RestfulServer servlet).
 */
@Configuration
@Import({
	JpaR4Config.class,
	HapiJpaConfig.class,
	ThreadPoolFactoryConfig.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
	SubscriptionSubmitterConfig.class,
	SubscriptionProcessorConfig.class,
	SubscriptionChannelConfig.class
})
public class FhirServerConfig {

	public static final String FHIR_PATH = "/fhir";

	private final ServerSettings settings;

	public FhirServerConfig(ServerSettings settings) {
		this.settings = settings;
	}

	// ---------------------------------------------------------------- database

	@Bean(destroyMethod = "close")
	public DataSource dataSource() {
		return newDataSource(settings);
	}

	/** The pool of the server, and of `migrate` on its own. */
	static HikariDataSource newDataSource(ServerSettings settings) {
		HikariConfig config = new HikariConfig();
		config.setPoolName("hapi");
		config.setDriverClassName(settings.jdbcDriver());
		config.setJdbcUrl(settings.dbUrl);
		config.setUsername(settings.dbUser);
		config.setPassword(settings.dbPassword);
		config.setMaximumPoolSize(settings.dbPoolSize);
		return new HikariDataSource(config);
	}

	/** HAPI's migration tasks, run before anything reads a table. */
	@Bean
	public SchemaMigration.Outcome schemaMigration(DataSource dataSource) {
		SchemaMigration.Outcome outcome = SchemaMigration.migrate(settings, dataSource);
		LoggerFactory.getLogger("org.imagingconnect.hapi").info("Database {}", outcome.describe());
		return outcome;
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			DataSource dataSource,
			SchemaMigration.Outcome schemaMigration) {
		LocalContainerEntityManagerFactoryBean factory =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		Map<String, Object> jpa = new HashMap<>();
		jpa.put(AvailableSettings.DIALECT, settings.hibernateDialect());
		// The schema is HAPI's migration tasks' (SchemaMigration); Hibernate's update would add new
		// tables and columns but never run HAPI's data migrations, type changes or drops.
		jpa.put(AvailableSettings.HBM2DDL_AUTO, "none");
		jpa.put(AvailableSettings.SCANNER, "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		jpa.put(AvailableSettings.IMPLICIT_NAMING_STRATEGY, SpringImplicitNamingStrategy.class.getName());
		jpa.put(AvailableSettings.PHYSICAL_NAMING_STRATEGY, CamelCaseToUnderscoresNamingStrategy.class.getName());
		jpa.put(AvailableSettings.FORMAT_SQL, "false");
		jpa.put(AvailableSettings.SHOW_SQL, "false");
		jpa.put(AvailableSettings.STATEMENT_BATCH_SIZE, "20");
		jpa.put(AvailableSettings.USE_QUERY_CACHE, "false");
		jpa.put(AvailableSettings.USE_SECOND_LEVEL_CACHE, "false");
		jpa.put(AvailableSettings.USE_STRUCTURED_CACHE, "false");
		jpa.put(AvailableSettings.USE_MINIMAL_PUTS, "false");
		// Hibernate would create H2 "global temporary" id tables for some HAPI entities at start-up;
		// their DDL fails on H2 (duplicate column names) and only litters hapi.trace.db.
		jpa.put("hibernate.query.mutation_strategy.global_temporary.create_tables", "false");
		jpa.put("hibernate.query.mutation_strategy.global_temporary.drop_tables", "false");
		// no Lucene/Elasticsearch full-text index
		jpa.put(HibernateOrmMapperSettings.ENABLED, "false");
		factory.setPersistenceUnitName("HAPI_PU");
		factory.setJpaPropertyMap(jpa);
		factory.setDataSource(dataSource);
		return factory;
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		return new JpaTransactionManager(entityManagerFactory);
	}

	// ---------------------------------------------------------------- HAPI settings

	@Bean
	public JpaStorageSettings storageSettings() {
		JpaStorageSettings s = new JpaStorageSettings();
		s.setAllowMultipleDelete(true);
		s.setDeleteEnabled(true);
		s.setExpungeEnabled(settings.expunge);
		s.setDeleteExpungeEnabled(settings.expunge);
		s.setAllowExternalReferences(false);
		s.setAutoCreatePlaceholderReferenceTargets(false);
		s.setEnforceReferentialIntegrityOnWrite(true);
		s.setEnforceReferentialIntegrityOnDelete(true);
		s.setIndexMissingFields(JpaStorageSettings.IndexEnabledEnum.DISABLED);
		// HAPI's default re-serves an identical search from a cache for 60 s; a store that
		// services poll as a work queue must see every write at once, so it is off by default.
		s.setReuseCachedSearchResultsForMillis(settings.searchCacheMillis);
		s.setFetchSizeDefaultMaximum(settings.maxPageSize);
		// HAPI's default caches the count of a resource's history, so a second _history read answers
		// with as many versions as the first one saw. The audit trail must always be complete.
		s.setHistoryCountMode(HistoryCountModeEnum.COUNT_ACCURATE);
		s.setResourceServerIdStrategy(JpaStorageSettings.IdStrategyEnum.SEQUENTIAL_NUMERIC);
		s.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ALPHANUMERIC);
		return s;
	}

	@Bean
	public PartitionSettings partitionSettings() {
		PartitionSettings p = new PartitionSettings();
		p.setPartitioningEnabled(settings.partitioning);
		p.setAllowReferencesAcrossPartitions(PartitionSettings.CrossPartitionReferenceMode.NOT_ALLOWED);
		p.setIncludePartitionInSearchHashes(false);
		// HAPI's default makes conditional-create URLs unique ACROSS partitions: a Patient with the
		// same NHS number conditionally created in north and then in south fails in south. Each
		// region is its own store here, so the uniqueness is per partition.
		p.setConditionalCreateDuplicateIdentifiersEnabled(true);
		return p;
	}

	@Bean
	public SubscriptionSettings subscriptionSettings() {
		SubscriptionSettings s = new SubscriptionSettings();
		if (settings.resthookSubscriptions) {
			s.addSupportedSubscriptionType(org.hl7.fhir.dstu2.model.Subscription.SubscriptionChannelType.RESTHOOK);
		}
		return s;
	}

	/** Needed by HAPI's subscription processor even when e-mail subscriptions are off. */
	@Bean
	public IEmailSender emailSender() {
		return details -> {};
	}

	/** Registered with HAPI's storage-level interceptor service, so it sees every expunge. */
	@Bean
	public Object expungeEverythingGuard(IInterceptorService storageInterceptors) {
		if (settings.allowExpungeEverything) {
			return "expungeEverything allowed";
		}
		ExpungeEverythingGuard guard = new ExpungeEverythingGuard();
		storageInterceptors.registerInterceptor(guard);
		return guard;
	}

	@Bean
	public DatabaseBinaryContentStorageSvcImpl binaryStorageSvc() {
		return new DatabaseBinaryContentStorageSvcImpl();
	}

	// ---------------------------------------------------------------- REST server

	@Bean
	public RestfulServer restfulServer(
			FhirContext fhirContext,
			IFhirSystemDao<?, ?> systemDao,
			ResourceProviderFactory resourceProviders,
			IJpaSystemProvider systemProvider,
			JpaStorageSettings storageSettings,
			PartitionSettings partitionSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			DatabaseBackedPagingProvider pagingProvider,
			ValueSetOperationProvider valueSetOperationProvider,
			SubscriptionTriggeringProvider subscriptionTriggeringProvider,
			PartitionManagementProvider partitionManagementProvider) {
		fhirContext.setNarrativeGenerator(new NullNarrativeGenerator());

		RestfulServer server = new RestfulServer(fhirContext);
		server.registerProviders(resourceProviders.createProviders());
		server.registerProvider(systemProvider);
		server.registerProvider(valueSetOperationProvider);
		server.registerProvider(subscriptionTriggeringProvider);

		JpaCapabilityStatementProvider capabilities = new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport);
		capabilities.setImplementationDescription("imaging-connect HAPI FHIR R4 server");
		server.setServerConformanceProvider(capabilities);

		pagingProvider.setDefaultPageSize(settings.defaultPageSize);
		pagingProvider.setMaximumPageSize(settings.maxPageSize);
		server.setPagingProvider(pagingProvider);
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		server.setDefaultPrettyPrint(false);

		if (settings.serverAddress.isEmpty()) {
			server.setServerAddressStrategy(new IncomingRequestAddressStrategy());
		} else {
			server.setServerAddressStrategy(new HardcodedServerAddressStrategy(settings.serverAddress));
		}

		if (settings.partitioning) {
			// /fhir/{partition}/{type}...; /fhir/metadata and /fhir/$op go to the DEFAULT partition
			RequestTenantPartitionInterceptor tenants = new RequestTenantPartitionInterceptor();
			tenants.setPartitionSettings(partitionSettings);
			server.registerInterceptor(tenants);
			server.setTenantIdentificationStrategy(new UrlBaseTenantIdentificationStrategy());
			server.registerProvider(partitionManagementProvider);
		}

		if (settings.requestLog) {
			LoggingInterceptor log = new LoggingInterceptor();
			log.setLoggerName("fhir.request");
			log.setMessageFormat(
					"${requestVerb} ${completeRequestUrl} ${operationType} ${processingTimeMillis}ms");
			log.setLogExceptions(false);
			server.registerInterceptor(log);
		}
		return server;
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer server) {
		ServletRegistrationBean<RestfulServer> registration =
				new ServletRegistrationBean<>(server, FHIR_PATH + "/*");
		registration.setName("fhir");
		registration.setLoadOnStartup(1);
		return registration;
	}

	@Bean
	public ReadinessGate readinessGate() {
		return new ReadinessGate();
	}

	@Bean
	public FilterRegistrationBean<ReadinessGate> readinessFilter(ReadinessGate gate) {
		FilterRegistrationBean<ReadinessGate> registration = new FilterRegistrationBean<>(gate);
		registration.setName("readiness");
		registration.addUrlPatterns(FHIR_PATH + "/*");
		registration.setOrder(0);
		return registration;
	}
}
