package net.alknet.call.op;

/**
 * Marker for CDI beans that declare {@link Operation} methods. The registry finds operation beans
 * through this type (which also keeps Quarkus from removing them as unused).
 */
public interface OperationBean {}
