package net.alknet.call.op;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;

/**
 * Turns the {@link Operation} methods of a bean into {@link RegisteredOperation}s: checks their
 * shape, generates schemas from the parameter and return types, and adapts the call (JSON ⇄ Java,
 * value/Uni/CompletionStage/Multi → Uni/Multi of JSON). Fails eagerly with the method named.
 */
public final class OperationBinder {

  private static final ObjectMapper JSON = EnvelopeCodec.json();

  private OperationBinder() {}

  /** Every {@code @Operation} method of the bean's class. */
  public static List<RegisteredOperation> bind(Object bean, Class<?> beanClass) {
    List<RegisteredOperation> out = new ArrayList<>();
    for (Method m : beanClass.getMethods()) {
      Operation a = m.getAnnotation(Operation.class);
      if (a != null) {
        out.add(bind(bean, m, a));
      }
    }
    return out;
  }

  static RegisteredOperation bind(Object bean, Method m, Operation a) {
    String where = m.getDeclaringClass().getName() + "." + m.getName();
    if (!EnvelopeCodec.OP_NAME.matcher(a.value()).matches()) {
      throw new IllegalStateException(
          where + ": operation name '" + a.value() + "' is not namespace/name");
    }
    if (Modifier.isStatic(m.getModifiers())) {
      throw new IllegalStateException(where + ": operations must be instance methods");
    }
    Type inputType = null;
    int inputIndex = -1;
    int ctxIndex = -1;
    Type[] params = m.getGenericParameterTypes();
    for (int i = 0; i < params.length; i++) {
      if (params[i] == CallContext.class) {
        ctxIndex = i;
      } else if (inputIndex < 0) {
        inputIndex = i;
        inputType = params[i];
      } else {
        throw new IllegalStateException(where + ": at most one input parameter (plus CallContext)");
      }
    }
    Type ret = m.getGenericReturnType();
    Class<?> raw = m.getReturnType();
    boolean stream = Multi.class.isAssignableFrom(raw);
    if (stream != (a.kind() == Operation.Kind.SUBSCRIPTION)) {
      throw new IllegalStateException(
          where + ": subscriptions return Multi<Event>, queries and mutations must not");
    }
    if (raw == void.class) {
      throw new IllegalStateException(where + ": operations return a value (use a record)");
    }
    Type valueType =
        Uni.class.isAssignableFrom(raw)
                || CompletionStage.class.isAssignableFrom(raw)
                || Multi.class.isAssignableFrom(raw)
            ? typeArgument(ret, where)
            : ret;
    JsonNode inputSchema = inputType == null ? Schemas.emptyObject() : Schemas.of(inputType);
    JsonNode valueSchema = Schemas.of(valueType);
    Set<String> scopes = Set.copyOf(Arrays.asList(a.scopes()));
    OperationSpec spec =
        new OperationSpec(
            a.value(),
            a.kind(),
            a.description(),
            Arrays.asList(a.tags()),
            scopes,
            a.open(),
            a.visibility(),
            Arrays.asList(a.errors()),
            a.overflow(),
            Math.max(1, a.queue()),
            a.continueOnParentAbort(),
            inputSchema,
            stream ? null : valueSchema,
            stream ? valueSchema : null);
    JavaType inputJava = inputType == null ? null : JSON.getTypeFactory().constructType(inputType);
    int in = inputIndex;
    int cx = ctxIndex;
    m.setAccessible(true);
    RegisteredOperation.Impl impl =
        (input, ctx) -> {
          Object[] args = new Object[params.length];
          if (in >= 0) {
            try {
              args[in] = JSON.convertValue(input, inputJava);
            } catch (IllegalArgumentException e) {
              String path =
                  e.getCause() instanceof com.fasterxml.jackson.databind.JsonMappingException jm
                      ? jm.getPathReference()
                      : "$";
              throw new CallException(
                  ErrorCodes.INVALID_INPUT, "invalid input: it does not bind at " + path);
            }
          }
          if (cx >= 0) {
            args[cx] = ctx;
          }
          Object result;
          try {
            result = m.invoke(bean, args);
          } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
              throw ex;
            }
            throw new RuntimeException(cause);
          }
          return adapt(result);
        };
    return new RegisteredOperation(spec, Schemas.validator(inputSchema), impl, where);
  }

  private static Object adapt(Object result) {
    if (result instanceof Multi<?> multi) {
      return multi.map(OperationBinder::toJson);
    }
    if (result instanceof Uni<?> uni) {
      return uni.map(OperationBinder::toJson);
    }
    if (result instanceof CompletionStage<?> stage) {
      return Uni.createFrom().completionStage(stage).map(OperationBinder::toJson);
    }
    return Uni.createFrom().item(toJson(result));
  }

  static JsonNode toJson(Object value) {
    return value instanceof JsonNode n ? n : JSON.valueToTree(value);
  }

  private static Type typeArgument(Type t, String where) {
    if (t instanceof ParameterizedType p) {
      return p.getActualTypeArguments()[0];
    }
    throw new IllegalStateException(where + ": give the Uni/CompletionStage/Multi a type argument");
  }
}
