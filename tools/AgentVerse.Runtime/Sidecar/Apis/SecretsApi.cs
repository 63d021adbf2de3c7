using System.Text.Json;
using AgentVerse.Runtime.Components;
using AgentVerse.Runtime.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AgentVerse.Runtime.Sidecar.Apis;

/// <summary>The secrets API (daprd pkg/api/http/secrets.go).</summary>
internal static class SecretsApi
{
    public static void MapSecretsApi(this IEndpointRouteBuilder app, Sidecar sidecar)
    {
        app.MapGet("/v1.0/secrets/{storeName}/bulk", async context =>
        {
            if (await ResolveAsync(context, sidecar) is not { } store)
            {
                return;
            }
            IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> secrets;
            try
            {
                secrets = await store.SecretStore!.BulkGetSecretAsync(RequestMetadata.FromQuery(context.Request), context.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await BulkGetFailed(store.Definition.Name, e).WriteAsync(context.Response);
                return;
            }
            await WriteJsonAsync(context, json =>
            {
                json.WriteStartObject();
                foreach (var (name, values) in secrets)
                {
                    WriteMap(json, name, values);
                }
                json.WriteEndObject();
            });
        });

        app.MapGet("/v1.0/secrets/{storeName}/{name}", async context =>
        {
            if (await ResolveAsync(context, sidecar) is not { } store)
            {
                return;
            }
            var name = (string)context.Request.RouteValues["name"]!;
            IReadOnlyDictionary<string, string> values;
            try
            {
                values = await store.SecretStore!.GetSecretAsync(name, RequestMetadata.FromQuery(context.Request), context.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await GetFailed(store.Definition.Name, name, e).WriteAsync(context.Response);
                return;
            }
            if (values.Count == 0)
            {
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }
            await WriteJsonAsync(context, json =>
            {
                json.WriteStartObject();
                foreach (var (key, value) in values)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            });
        });
    }

    private static async Task<LoadedComponent?> ResolveAsync(HttpContext context, Sidecar sidecar)
    {
        if (Resolve(sidecar, (string)context.Request.RouteValues["storeName"]!, out var store) is { } error)
        {
            await error.WriteAsync(context.Response);
            return null;
        }
        return store;
    }

    /// <summary>The secret store by name, or daprd's error (HTTP and gRPC APIs).</summary>
    internal static DaprError? Resolve(Sidecar sidecar, string storeName, out LoadedComponent store)
    {
        store = null!;
        if (sidecar.SecretStores.Count == 0)
        {
            return DaprError.SecretStoreNotConfigured();
        }
        return sidecar.SecretStores.TryGetValue(storeName, out store!) ? null : DaprError.SecretStoreNotFound(storeName);
    }

    internal static DaprError GetFailed(string storeName, string name, Exception e) =>
        new(500, "ERR_SECRET_GET", $"failed getting secret with key {name} from secret store {storeName}: {(e is SecretNotFoundException ? $"secret {name} not found" : e.Message)}");

    internal static DaprError BulkGetFailed(string storeName, Exception e) =>
        new(500, "ERR_SECRET_GET", $"failed getting secrets from secret store {storeName}: {e.Message}");

    private static void WriteMap(Utf8JsonWriter json, string name, IReadOnlyDictionary<string, string> values)
    {
        json.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            json.WriteString(key, value);
        }
        json.WriteEndObject();
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        write(json);
        await json.FlushAsync(context.RequestAborted);
    }
}
