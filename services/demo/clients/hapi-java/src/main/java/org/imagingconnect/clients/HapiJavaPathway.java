package org.imagingconnect.clients;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.MethodNotAllowedException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.hl7.fhir.instance.model.api.IBaseBundle;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.*;

/**
 * One order across regions, every call made with HAPI FHIR's generic client as it comes (JSON, its own
 * headers: If-None-Exist as an absolute URL, If-Match from the version read, its Accept), the way a Java
 * EPR or RIS would call the gateways: the GP at the north gateway, RM1's RIS at the midlands gateway, and
 * a clinician of the south's trust at the national hub's imaging record locator.
 *
 * <p>Usage: {@code HapiJavaPathway <north base> <GP token> <midlands base> <RIS token> <hub base>
 * <clinician token>}. Prints one line per
 * step, {@code PASS <step>} or {@code FAIL <step>: <why>}, and exits 1 if any step failed. A step that needs
 * an earlier one's result fails, with the reason, when that one did.
 */
public final class HapiJavaPathway {
  private static final String NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number";
  private static final String ODS = "https://fhir.nhs.uk/Id/ods-organization-code";
  private static final String PLACER = "https://imaging-connect.example/fhir/Id/placer-order";
  private static final String TASK_CODE = "https://imaging-connect.example/fhir/CodeSystem/task-code";
  private static final String ALERT_CATEGORY = "https://imaging-connect.example/fhir/StructureDefinition/alert-category";
  private static final String ALERT_CODES = "https://imaging-connect.example/fhir/CodeSystem/alert-category";
  private static final String CT_CHEST = "169069000";

  private final FhirContext ctx = FhirContext.forR4();
  private final IGenericClient gp;
  private final IGenericClient ris;
  private final IGenericClient clinician;
  private final Random random = new Random();
  private final List<String> failed = new ArrayList<>();

  private final String nhsNumber = validNhsNumber();
  private final String placerNumber = "N81001-HAPI-" + Integer.toUnsignedString(random.nextInt());
  private IIdType patientId;
  private IIdType orderId;
  private Task risTask;
  private ServiceRequest risOrder;
  private IIdType reportId;

  private HapiJavaPathway(String[] args) {
    gp = client(args[0], args[1]);
    ris = client(args[2], args[3]);
    clinician = client(args[4], args[5]);
  }

  private IGenericClient client(String base, String token) {
    IGenericClient client = ctx.newRestfulGenericClient(base);
    client.registerInterceptor(new BearerTokenAuthInterceptor(token));
    return client;
  }

  public static void main(String[] args) {
    if (args.length != 6) {
      System.err.println(
          "usage: HapiJavaPathway <north base> <GP token> <midlands base> <RIS token> <hub base> <clinician token>");
      System.exit(2);
    }
    HapiJavaPathway pathway = new HapiJavaPathway(args);
    pathway.run();
    System.exit(pathway.failed.isEmpty() ? 0 : 1);
  }

  private void run() {
    step("reads the CapabilityStatement", this::capabilities);
    step("registers a patient, and again with If-None-Exist without a second write", this::registerPatient);
    step("finds the patient by NHS number", this::findPatient);
    step("places an order with If-None-Exist, and again without a second write", this::placeOrder);
    step("reads the order, and its first version", this::readOrder);
    step("finds the order with its Task (_revinclude=Task:focus)", this::orderWithTask);
    step("finds the Task with its order (Task.INCLUDE_FOCUS)", this::taskWithOrder);
    step("pages through the orders (_count=1, next link)", this::pages);
    step("reads the order's history", this::history);
    step("reads the order, its Task and a missing order in one batch (transaction().withBundle)", this::batchOfReads);
    step("validates a resource ($validate)", this::validate);
    step("gets a 422 with an OperationOutcome for a bad NHS number", this::badNhsNumber);
    step("gets a 405 for a delete", this::delete);
    step("RIS: finds its new work by owner.identifier, with the order", this::risWork);
    step("RIS: accepts the order and starts it (PUT with If-Match)", this::risProgress);
    step("RIS: records the endpoint, the study and an URGENT report", this::risReport);
    step("RIS: completes the Task with the report as output", this::risComplete);
    step("RIS: gets a 412 for an update from a stale version", this::risStale);
    step("GP: the alert arrives and is acknowledged ($acknowledge)", this::acknowledgeAlert);
    step("GP: sees the order completed, with the report", this::gpSeesReport);
    step("clinician: finds the patient's imaging at the hub's locator (subject.identifier)", this::locate);
    step("clinician: retrieves the report through the hub ($retrieve, GET)", this::retrieve);
  }

  private void step(String name, Runnable body) {
    try {
      body.run();
      System.out.println("PASS " + name);
    } catch (BaseServerResponseException e) {
      failed.add(name);
      String outcome = e.getOperationOutcome() == null ? "no OperationOutcome" : ctx.newJsonParser().encodeResourceToString(e.getOperationOutcome());
      System.out.println("FAIL " + name + ": HTTP " + e.getStatusCode() + " " + e.getMessage() + " " + outcome);
    } catch (RuntimeException e) {
      failed.add(name);
      System.out.println("FAIL " + name + ": " + e);
    }
  }

  private static void check(boolean ok, String what) {
    if (!ok) throw new IllegalStateException(what);
  }

  private static <T> T need(T value, String what) {
    if (value == null) throw new IllegalStateException("needs " + what + " (an earlier step failed)");
    return value;
  }

  /** Polls until the answer is there: the order and the report cross regions through the hub. */
  private static <T> T eventually(String what, Supplier<T> attempt) {
    for (int i = 0; i < 120; i++) {
      T found = attempt.get();
      if (found != null) return found;
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new IllegalStateException("waited 30 s for " + what);
  }

  private void capabilities() {
    CapabilityStatement cs = gp.capabilities().ofType(CapabilityStatement.class).execute();
    check(cs.getFhirVersion() == Enumerations.FHIRVersion._4_0_1, "fhirVersion 4.0.1, not " + cs.getFhirVersion());
    check(cs.getFormat().stream().anyMatch(f -> f.getValue().contains("json")), "a JSON format declared");
  }

  private Patient patient() {
    Patient patient = new Patient();
    patient.addIdentifier().setSystem(NHS_NUMBER).setValue(nhsNumber);
    patient.addName().setFamily("Javaclient").addGiven("Hapi");
    patient.setGender(Enumerations.AdministrativeGender.UNKNOWN);
    return patient;
  }

  private void registerPatient() {
    MethodOutcome created = gp.create().resource(patient()).execute();
    check(created.getResponseStatusCode() == 201, "201 for a new patient, not " + created.getResponseStatusCode());
    patientId = created.getId().toUnqualifiedVersionless();
    MethodOutcome again = gp.create().resource(patient())
        .conditional().where(Patient.IDENTIFIER.exactly().systemAndCode(NHS_NUMBER, nhsNumber)).execute();
    check(again.getResponseStatusCode() == 200, "200 for a patient already held, not " + again.getResponseStatusCode());
    check(again.getId().toUnqualifiedVersionless().equals(patientId), "the same patient, not " + again.getId());
    check("1".equals(again.getId().getVersionIdPart()), "no second version, not " + again.getId());
  }

  private void findPatient() {
    Bundle found = gp.search().forResource(Patient.class)
        .where(Patient.IDENTIFIER.exactly().systemAndCode(NHS_NUMBER, nhsNumber)).returnBundle(Bundle.class).execute();
    check(found.getEntry().size() == 1, "one patient, not " + found.getEntry().size());
    check(found.getEntryFirstRep().getResource().getIdElement().toUnqualifiedVersionless().equals(patientId), "the patient registered");
  }

  private ServiceRequest order() {
    ServiceRequest order = new ServiceRequest();
    order.addIdentifier().setSystem(PLACER).setValue(placerNumber);
    order.setStatus(ServiceRequest.ServiceRequestStatus.ACTIVE).setIntent(ServiceRequest.ServiceRequestIntent.ORDER);
    order.getCode().addCoding().setSystem("http://snomed.info/sct").setCode(CT_CHEST).setDisplay("Computed tomography of chest");
    order.setSubject(new Reference().setType("Patient").setIdentifier(new Identifier().setSystem(NHS_NUMBER).setValue(nhsNumber)));
    order.setAuthoredOn(new Date());
    order.setRequester(organisation("N81001"));
    order.addPerformer(organisation("RM1"));
    return order;
  }

  private static Reference organisation(String odsCode) {
    return new Reference().setType("Organization").setIdentifier(new Identifier().setSystem(ODS).setValue(odsCode));
  }

  private void placeOrder() {
    MethodOutcome placed = gp.create().resource(order())
        .conditional().where(ServiceRequest.IDENTIFIER.exactly().systemAndCode(PLACER, placerNumber)).execute();
    check(Boolean.TRUE.equals(placed.getCreated()), "created (201)");
    orderId = placed.getId().toUnqualifiedVersionless();
    MethodOutcome again = gp.create().resource(order())
        .conditional().where(ServiceRequest.IDENTIFIER.exactly().systemAndCode(PLACER, placerNumber)).execute();
    check(!Boolean.TRUE.equals(again.getCreated()), "not created twice");
    check(again.getId().toUnqualifiedVersionless().equals(orderId), "the same order, not " + again.getId());
  }

  private void readOrder() {
    IIdType id = need(orderId, "the order");
    ServiceRequest read = gp.read().resource(ServiceRequest.class).withId(id).execute();
    check(read.getSubject().getReference().equals(patientId.getValue()), "the subject resolved to the patient");
    ServiceRequest first = gp.read().resource(ServiceRequest.class).withIdAndVersion(id.getIdPart(), "1").execute();
    check("1".equals(first.getMeta().getVersionId()), "version 1");
  }

  private void orderWithTask() {
    Bundle found = gp.search().forResource(ServiceRequest.class)
        .where(ServiceRequest.IDENTIFIER.exactly().systemAndCode(PLACER, placerNumber))
        .revInclude(Task.INCLUDE_FOCUS).returnBundle(Bundle.class).execute();
    check(types(found).equals(List.of("ServiceRequest", "Task")), "the order and its Task, not " + types(found));
  }

  private void taskWithOrder() {
    IIdType id = need(orderId, "the order");
    Bundle found = gp.search().forResource(Task.class).where(Task.FOCUS.hasId(id.getValue()))
        .include(Task.INCLUDE_FOCUS).returnBundle(Bundle.class).execute();
    List<String> included = found.getEntry().stream()
        .filter(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.INCLUDE)
        .map(e -> e.getResource().getIdElement().toUnqualifiedVersionless().getValue()).toList();
    check(included.equals(List.of(id.getValue())), "the order included, not " + included);
  }

  private void pages() {
    gp.create().resource(order().setIdentifier(List.of(new Identifier().setSystem(PLACER).setValue(placerNumber + "-2")))).execute();
    Bundle page = gp.search().forResource(ServiceRequest.class).count(1).returnBundle(Bundle.class).execute();
    check(page.getLink(IBaseBundle.LINK_NEXT) != null, "a next link after the first of two orders");
    Bundle next = gp.loadPage().next(page).execute();
    check(next.getEntry().size() == 1, "one order on the second page, not " + next.getEntry().size());
    check(!next.getEntryFirstRep().getResource().getId().equals(page.getEntryFirstRep().getResource().getId()), "another order");
  }

  private void history() {
    Bundle versions = gp.history().onInstance(need(orderId, "the order")).returnBundle(Bundle.class).execute();
    check(versions.getEntry().size() == 1, "one version, not " + versions.getEntry().size());
  }

  private void batchOfReads() {
    IIdType id = need(orderId, "the order");
    Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
    batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl(id.getValue());
    batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("Task?focus=" + id.getValue());
    batch.addEntry().getRequest().setMethod(Bundle.HTTPVerb.GET).setUrl("ServiceRequest/not-there");
    Bundle answer = gp.transaction().withBundle(batch).execute();
    check(answer.getType() == Bundle.BundleType.BATCHRESPONSE, "a batch-response, not " + answer.getType());
    List<String> statuses = answer.getEntry().stream().map(e -> e.getResponse().getStatus()).toList();
    check(statuses.equals(List.of("200 OK", "200 OK", "404 Not Found")), "200, 200 and 404, not " + statuses);
    Resource read = answer.getEntry().get(0).getResource();
    check(read instanceof ServiceRequest && read.getIdElement().getIdPart().equals(id.getIdPart()), "the order first");
    check(types((Bundle) answer.getEntry().get(1).getResource()).equals(List.of("Task")), "its Task second");
    Resource missing = answer.getEntry().get(2).getResponse().getOutcome();
    check(missing instanceof OperationOutcome, "an OperationOutcome for the missing order");
  }

  private void validate() {
    MethodOutcome checked = gp.validate().resource(patient()).execute();
    OperationOutcome outcome = (OperationOutcome) checked.getOperationOutcome();
    check(outcome.getIssue().stream().noneMatch(i -> i.getSeverity() == OperationOutcome.IssueSeverity.ERROR), "no error for a good patient");
  }

  private void badNhsNumber() {
    Patient bad = new Patient();
    bad.addIdentifier().setSystem(NHS_NUMBER).setValue("9990000019");
    try {
      gp.create().resource(bad).execute();
      throw new IllegalStateException("the bad NHS number was taken");
    } catch (UnprocessableEntityException e) {
      OperationOutcome outcome = (OperationOutcome) e.getOperationOutcome();
      check(outcome != null && outcome.getIssueFirstRep().getDiagnostics().contains("NHS number"), "an OperationOutcome naming the NHS number");
    }
  }

  private void delete() {
    try {
      gp.delete().resourceById(need(orderId, "the order")).execute();
      throw new IllegalStateException("the delete was taken");
    } catch (MethodNotAllowedException e) {
      check(e.getOperationOutcome() != null, "an OperationOutcome");
    }
  }

  private void risWork() {
    Bundle work = eventually("the order to reach the midlands", () -> {
      Bundle found = ris.search().forResource(Task.class)
          .where(Task.STATUS.exactly().code("requested"))
          .and(Task.OWNER.hasChainedProperty(Organization.IDENTIFIER.exactly().systemAndCode(ODS, "RM1")))
          .and(Task.CODE.exactly().systemAndCode(TASK_CODE, "fulfil"))
          .include(Task.INCLUDE_FOCUS).count(1000).returnBundle(Bundle.class).execute();
      return found.getEntry().stream().anyMatch(e -> e.getResource() instanceof ServiceRequest o && placerNumber.equals(o.getIdentifierFirstRep().getValue())) ? found : null;
    });
    for (Bundle.BundleEntryComponent e : work.getEntry())
      if (e.getResource() instanceof ServiceRequest o && placerNumber.equals(o.getIdentifierFirstRep().getValue())) risOrder = o;
    for (Bundle.BundleEntryComponent e : work.getEntry())
      if (e.getResource() instanceof Task t && t.getFocus().getReference().equals("ServiceRequest/" + risOrder.getIdElement().getIdPart())) risTask = t;
    need(risTask, "the order's Task among the matches");
  }

  private Task moveTask(Task.TaskStatus status) {
    Task task = need(risTask, "the Task");
    task.setStatus(status);
    ris.update().resource(task).execute();
    risTask = ris.read().resource(Task.class).withId(task.getIdElement().toUnqualifiedVersionless()).execute();
    check(risTask.getStatus() == status, "status " + status.toCode() + ", not " + risTask.getStatus());
    return risTask;
  }

  private void risProgress() {
    moveTask(Task.TaskStatus.ACCEPTED);
    moveTask(Task.TaskStatus.INPROGRESS);
  }

  private void risReport() {
    ServiceRequest order = need(risOrder, "the order in the midlands");
    Endpoint endpoint = new Endpoint();
    endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
    endpoint.getConnectionType().setSystem("http://terminology.hl7.org/CodeSystem/endpoint-connection-type").setCode("dicom-wado-rs");
    endpoint.setManagingOrganization(organisation("RM1"));
    endpoint.addPayloadType().setText("DICOM");
    endpoint.setAddress("https://pacs.rm1.example/dicomweb");
    IIdType endpointId = ris.create().resource(endpoint).execute().getId().toUnqualifiedVersionless();

    ImagingStudy study = new ImagingStudy();
    study.addIdentifier().setSystem("urn:dicom:uid").setValue("urn:oid:2.25." + Long.toUnsignedString(random.nextLong()));
    study.addIdentifier().setSystem("https://imaging-connect.example/fhir/Id/accession").setValue("RM1-HAPI-" + Integer.toUnsignedString(random.nextInt()));
    study.setStatus(ImagingStudy.ImagingStudyStatus.AVAILABLE);
    study.addModality().setSystem("http://dicom.nema.org/resources/ontology/DCM").setCode("CT");
    study.setSubject(order.getSubject());
    study.setStarted(new Date());
    study.addBasedOn().setReference("ServiceRequest/" + order.getIdElement().getIdPart());
    study.addEndpoint().setReference(endpointId.getValue());
    IIdType studyId = ris.create().resource(study).execute().getId().toUnqualifiedVersionless();

    DiagnosticReport report = new DiagnosticReport();
    report.addExtension().setUrl(ALERT_CATEGORY).setValue(new Coding(ALERT_CODES, "URGENT", "Urgent"));
    report.addBasedOn().setReference("ServiceRequest/" + order.getIdElement().getIdPart());
    report.setStatus(DiagnosticReport.DiagnosticReportStatus.FINAL);
    report.getCode().addCoding().setSystem("http://snomed.info/sct").setCode(CT_CHEST);
    report.setSubject(order.getSubject());
    report.setIssued(new Date());
    report.addImagingStudy().setReference(studyId.getValue());
    report.setConclusion("Small left pleural effusion.");
    reportId = ris.create().resource(report).execute().getId().toUnqualifiedVersionless();

    Bundle withOrder = ris.search().forResource(DiagnosticReport.class).where(DiagnosticReport.RES_ID.exactly().code(reportId.getIdPart()))
        .include(DiagnosticReport.INCLUDE_BASED_ON).returnBundle(Bundle.class).execute();
    check(types(withOrder).containsAll(List.of("DiagnosticReport", "ServiceRequest")), "the report with its order, not " + types(withOrder));
  }

  private void risComplete() {
    Task task = need(risTask, "the Task");
    task.addOutput().setType(new CodeableConcept().setText("report")).setValue(new Reference(need(reportId, "the report").getValue()));
    moveTask(Task.TaskStatus.COMPLETED);
  }

  private void risStale() {
    Task stale = need(risTask, "the Task").copy();
    stale.setId(stale.getIdElement().withVersion("1"));
    stale.getMeta().setVersionId("1");
    stale.setStatus(Task.TaskStatus.FAILED);
    try {
      ris.update().resource(stale).execute();
      throw new IllegalStateException("the stale update was taken");
    } catch (PreconditionFailedException e) {
      check(e.getOperationOutcome() != null, "an OperationOutcome");
    }
  }

  private void acknowledgeAlert() {
    IIdType order = need(orderId, "the order");
    Task alert = eventually("the alert to reach the north", () -> {
      Bundle found = gp.search().forResource(Task.class)
          .where(Task.CODE.exactly().systemAndCode(TASK_CODE, "acknowledge-result"))
          .and(Task.STATUS.exactly().code("requested")).count(1000).returnBundle(Bundle.class).execute();
      return found.getEntry().stream().map(e -> (Task) e.getResource())
          .filter(t -> t.getBasedOnFirstRep().getReference().equals(order.getValue())).findFirst().orElse(null);
    });
    Parameters in = new Parameters();
    in.addParameter().setName("acknowledgedBy").setValue(new StringType("Dr Hapi Client"));
    gp.operation().onInstance(alert.getIdElement().toUnqualifiedVersionless()).named("$acknowledge").withParameters(in).execute();
    Task after = gp.read().resource(Task.class).withId(alert.getIdElement().toUnqualifiedVersionless()).execute();
    check(after.getStatus() == Task.TaskStatus.COMPLETED, "an URGENT alert completed once acknowledged, not " + after.getStatus());
  }

  private void gpSeesReport() {
    IIdType order = need(orderId, "the order");
    Bundle found = eventually("the completed Task and the report in the north", () -> {
      Bundle answer = gp.search().forResource(ServiceRequest.class).where(ServiceRequest.RES_ID.exactly().code(order.getIdPart()))
          .revInclude(Task.INCLUDE_FOCUS).revInclude(DiagnosticReport.INCLUDE_BASED_ON).returnBundle(Bundle.class).execute();
      boolean completed = answer.getEntry().stream().anyMatch(e -> e.getResource() instanceof Task t && t.getStatus() == Task.TaskStatus.COMPLETED);
      return completed && types(answer).contains("DiagnosticReport") ? answer : null;
    });
    check(types(found).containsAll(List.of("ServiceRequest", "Task", "DiagnosticReport")), "the order, its Task and the report");
  }

  private List<DocumentReference> pointers;

  private void locate() {
    need(reportId, "the report");
    Bundle found = eventually("both pointers at the locator", () -> {
      Bundle answer = clinician.search().forResource(DocumentReference.class)
          .where(DocumentReference.SUBJECT.hasChainedProperty(Patient.IDENTIFIER.exactly().systemAndCode(NHS_NUMBER, nhsNumber)))
          .returnBundle(Bundle.class).execute();
      return answer.getEntry().size() == 2 ? answer : null;
    });
    pointers = found.getEntry().stream().map(e -> (DocumentReference) e.getResource()).toList();
    List<String> kinds = pointers.stream().map(p -> p.getType().getCodingFirstRep().getCode()).sorted().toList();
    check(kinds.equals(List.of("DiagnosticReport", "ImagingStudy")), "a study and a report, not " + kinds);
  }

  private void retrieve() {
    DocumentReference pointer = need(pointers, "the pointers").stream()
        .filter(p -> p.getType().getCodingFirstRep().getCode().equals("DiagnosticReport")).findFirst().orElseThrow();
    DiagnosticReport report = clinician.operation().onInstance(pointer.getIdElement().toUnqualifiedVersionless())
        .named("$retrieve").withNoParameters(Parameters.class).useHttpGet()
        .returnResourceType(DiagnosticReport.class).execute();
    check("Small left pleural effusion.".equals(report.getConclusion()), "the report's conclusion, not " + report.getConclusion());
  }

  private static List<String> types(Bundle bundle) {
    return bundle.getEntry().stream().map(e -> e.getResource().fhirType()).filter(t -> !t.equals("OperationOutcome")).distinct().toList();
  }

  /** A 999-prefixed NHS number (the test range) that passes Modulus 11. */
  private String validNhsNumber() {
    while (true) {
      StringBuilder digits = new StringBuilder("999");
      for (int i = 0; i < 6; i++) digits.append(random.nextInt(10));
      int sum = 0;
      for (int i = 0; i < 9; i++) sum += (digits.charAt(i) - '0') * (10 - i);
      int check = 11 - sum % 11;
      if (check == 10) continue;
      return digits.append(check == 11 ? 0 : check).toString();
    }
  }
}
