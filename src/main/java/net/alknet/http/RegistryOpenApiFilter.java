package net.alknet.http;

import io.quarkus.smallrye.openapi.OpenApiFilter;
import io.smallrye.openapi.api.SmallRyeOpenAPI;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.alknet.call.CallHandler;
import net.alknet.call.op.Operation;
import net.alknet.call.op.OperationSpec;
import net.alknet.call.op.RegisteredOperation;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.Components;
import org.eclipse.microprofile.openapi.models.OpenAPI;

/**
 * Puts the registry's projection ({@link OpenApiProjection}, every external operation) into the
 * document SmallRye OpenAPI serves ({@code /q/openapi} on the management interface), next to what
 * SmallRye found in the JAX-RS resources, so both OpenAPI routes describe the same operations
 * (HTTP-4). Runs per request of that route, so CLI commands never build the registry for it.
 */
@ApplicationScoped
@OpenApiFilter(stages = OpenApiFilter.RunStage.RUNTIME_PER_REQUEST)
public class RegistryOpenApiFilter implements OASFilter {

  private final CallHandler calls;

  public RegistryOpenApiFilter(CallHandler calls) {
    this.calls = calls;
  }

  @Override
  public void filterOpenAPI(OpenAPI target) {
    List<OperationSpec> ops =
        calls.registry().all().stream()
            .map(RegisteredOperation::spec)
            .filter(s -> s.visibility() == Operation.Visibility.EXTERNAL)
            .toList();
    byte[] json =
        OpenApiProjection.document("alknet node", "1", ops)
            .toString()
            .getBytes(StandardCharsets.UTF_8);
    OpenAPI projected =
        SmallRyeOpenAPI.builder()
            .withConfig(ConfigProvider.getConfig())
            .enableAnnotationScan(false)
            .enableModelReader(false)
            .enableStandardStaticFiles(false)
            .enableStandardFilter(false)
            .withCustomStaticFile(() -> new ByteArrayInputStream(json))
            .build()
            .model();
    if (target.getPaths() == null) {
      target.setPaths(OASFactory.createPaths());
    }
    projected
        .getPaths()
        .getPathItems()
        .forEach(
            (path, item) -> {
              if (!target.getPaths().hasPathItem(path)) {
                target.getPaths().addPathItem(path, item);
              }
            });
    if (target.getComponents() == null) {
      target.setComponents(OASFactory.createComponents());
    }
    Components to = target.getComponents();
    Components from = projected.getComponents();
    from.getSchemas().forEach(to::addSchema);
    from.getResponses().forEach(to::addResponse);
    from.getSecuritySchemes().forEach(to::addSecurityScheme);
  }
}
