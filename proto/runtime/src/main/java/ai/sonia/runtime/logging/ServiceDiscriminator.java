package ai.sonia.runtime.logging;

import ai.sonia.runtime.Correlation;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.sift.AbstractDiscriminator;

/**
 * Sends each log line to {@code logs/<service>.log}: the service serving the current request, else the
 * {@code service} MDC entry (set around start-up), else {@code sonia}. This keeps one file per service
 * even when all six run in one JVM.
 */
public final class ServiceDiscriminator extends AbstractDiscriminator<ILoggingEvent> {

    static String serviceOf(ILoggingEvent event) {
        final String current = Correlation.currentService();
        if (current != null) {
            return current;
        }
        final String fromMdc = event.getMDCPropertyMap().get("service");
        return fromMdc != null ? fromMdc : "sonia";
    }

    @Override
    public String getDiscriminatingValue(ILoggingEvent event) {
        return serviceOf(event);
    }

    @Override
    public String getKey() {
        return "service";
    }
}
