using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentVerse.ServiceDefaults.Errors;

/// <summary>How every service answers input it cannot use: a 4xx problem+json naming the field, never a 5xx.</summary>
internal static class RequestErrorHandling
{
    public static void AddRequestErrorHandling(this IHostApplicationBuilder builder)
    {
        // In every environment, a parameter that does not bind throws, so the handler can name it; otherwise
        // Production answers a bare 400 and Development turns the exception into a 500.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new StrictStringConverter()));
        builder.Services.AddExceptionHandler<RequestExceptionHandler>();
        // A client error is not a server error: no "unhandled exception" log entry for it.
        builder.Services.Configure<ExceptionHandlerOptions>(options =>
            options.SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException);
    }
}
