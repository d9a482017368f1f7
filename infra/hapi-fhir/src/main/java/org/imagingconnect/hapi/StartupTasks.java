package org.imagingconnect.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.entity.PartitionEntity;
import ca.uhn.fhir.jpa.partition.IPartitionLookupSvc;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.IInstanceValidatorModule;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/**
 * Runs once the web server is up: creates the configured partitions (idempotently), warms the
 * instance validator, then opens the {@link ReadinessGate} and logs one summary line.
 */
@Component
public class StartupTasks implements ApplicationListener<ApplicationReadyEvent> {

	private static final Logger log = LoggerFactory.getLogger("org.imagingconnect.hapi");

	private final ServerSettings settings;
	private final ReadinessGate gate;
	private final ObjectProvider<IPartitionLookupSvc> partitions;
	private final FhirContext fhirContext;
	private final IInstanceValidatorModule validator;

	public StartupTasks(
			ServerSettings settings,
			ReadinessGate gate,
			ObjectProvider<IPartitionLookupSvc> partitions,
			FhirContext fhirContext,
			IInstanceValidatorModule validator) {
		this.settings = settings;
		this.gate = gate;
		this.partitions = partitions;
		this.fhirContext = fhirContext;
		this.validator = validator;
	}

	@Override
	public void onApplicationEvent(ApplicationReadyEvent event) {
		List<String> created = new ArrayList<>();
		if (settings.partitioning) {
			created = ensurePartitions(partitions.getObject());
		}
		if (settings.warmUpValidator) {
			long t0 = System.nanoTime();
			FhirValidator v = fhirContext.newValidator();
			v.registerValidatorModule(validator);
			v.validateWithResult(new ServiceRequest());
			log.info("Validator warmed up in {} ms", (System.nanoTime() - t0) / 1_000_000);
		}
		gate.open();
		double seconds = (System.currentTimeMillis()
						- ManagementFactory.getRuntimeMXBean().getStartTime())
				/ 1000.0;
		String base = "http://" + settings.bindAddress + ":" + settings.port + FhirServerConfig.FHIR_PATH;
		log.info(
				"READY in {} s: {} (database {}, partitions {}{})",
				String.format("%.1f", seconds),
				base,
				settings.database,
				settings.partitioning ? settings.partitions : "off",
				created.isEmpty() ? "" : ", created " + created);
	}

	private List<String> ensurePartitions(IPartitionLookupSvc lookup) {
		List<String> created = new ArrayList<>();
		for (int i = 0; i < settings.partitions.size(); i++) {
			String name = settings.partitions.get(i);
			List<PartitionEntity> existing = lookup.listPartitions();
			if (existing.stream().anyMatch(p -> p.getName().equals(name))) {
				continue;
			}
			// stable small ids for the configured partitions when free; random otherwise
			int preferred = i + 1;
			boolean taken = existing.stream().anyMatch(p -> p.getId() == preferred);
			PartitionEntity partition = new PartitionEntity();
			partition.setId(taken ? lookup.generateRandomUnusedPartitionId() : preferred);
			partition.setName(name);
			partition.setDescription("imaging-connect partition " + name);
			lookup.createPartition(partition, new SystemRequestDetails());
			created.add(name + "=" + partition.getId());
		}
		return created;
	}
}
