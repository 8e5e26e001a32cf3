package net.alknet.call.op;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.victools.jsonschema.generator.Option;
import com.github.victools.jsonschema.generator.OptionPreset;
import com.github.victools.jsonschema.generator.SchemaGenerator;
import com.github.victools.jsonschema.generator.SchemaGeneratorConfigBuilder;
import com.github.victools.jsonschema.generator.SchemaVersion;
import com.github.victools.jsonschema.module.jackson.JacksonModule;
import com.github.victools.jsonschema.module.jackson.JacksonOption;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.lang.reflect.Type;
import java.util.Optional;
import java.util.Set;
import net.alknet.call.wire.EnvelopeCodec;

/**
 * JSON Schemas for operation inputs and outputs (CALL-9): generated from Java types with victools
 * jsonschema-generator (JSON Schema 2020-12) and checked with networknt json-schema-validator.
 *
 * <p>Rules: record components are required unless their type is {@link Optional}; objects allow no
 * properties beyond their components (a typo is an error, not silently ignored).
 */
public final class Schemas {

  private static final SchemaGenerator GENERATOR = generator();
  private static final JsonSchemaFactory FACTORY =
      JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

  private Schemas() {}

  private static SchemaGenerator generator() {
    SchemaGeneratorConfigBuilder b =
        new SchemaGeneratorConfigBuilder(
                EnvelopeCodec.json(), SchemaVersion.DRAFT_2020_12, OptionPreset.PLAIN_JSON)
            .with(new JacksonModule(JacksonOption.RESPECT_JSONPROPERTY_REQUIRED))
            .with(Option.FORBIDDEN_ADDITIONAL_PROPERTIES_BY_DEFAULT)
            .with(Option.DEFINITIONS_FOR_ALL_OBJECTS)
            .without(Option.SCHEMA_VERSION_INDICATOR);
    b.forFields()
        .withRequiredCheck(
            f -> !f.getType().isInstanceOf(Optional.class) && !f.isFakeContainerItemScope());
    return new SchemaGenerator(b.build());
  }

  /** The schema of a Java type. */
  public static ObjectNode of(Type type) {
    return GENERATOR.generateSchema(type);
  }

  /** The schema of an operation without input: an empty object. */
  public static ObjectNode emptyObject() {
    ObjectNode o = EnvelopeCodec.json().createObjectNode();
    o.put("type", "object");
    o.put("additionalProperties", false);
    return o;
  }

  /** A compiled validator for a schema. */
  public static JsonSchema validator(JsonNode schema) {
    return FACTORY.getSchema(schema);
  }

  /** Validation messages for an input (empty = valid). */
  public static Set<ValidationMessage> validate(JsonSchema schema, JsonNode input) {
    return schema.validate(input);
  }
}
