using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;

namespace FastGate.Gateway.Configuration;

// The action of a route (upstream, aggregate or batch) and the two composition actions.
internal sealed partial class GatewayModelCompiler
{
    private const int MaxBatchRequests = 1000;

    private const string KeyRule = "use letters, digits, '_' and '-', not starting with '_' (reserved for the gateway's own members like \"_errors\")";

    /// <summary>Keys that tune the proxy exchange of an <c>upstream</c> route and mean nothing to the other actions.</summary>
    private static readonly string[] s_proxyOnlyKeys = ["rewrite", "timeout", "retries", "preserve_host", "cache"];

    /// <summary>An <c>upstream</c> name as a route or a part names it; null when not defined (reported, with a suggestion).</summary>
    private UpstreamModel? ReferencedUpstream(ConfigValue<string> name, string owner, Dictionary<string, UpstreamModel> upstreams)
    {
        if (upstreams.TryGetValue(name.Value, out var upstream))
        {
            return upstream;
        }

        // An upstream that is defined but failed on its own has been reported there.
        if (!config.Upstreams.Any(u => u.Name == name.Value))
        {
            var hint = NameSuggestion.Hint(name.Value, config.Upstreams.Select(u => u.Name));
            errors.Add(name.Position, $"{owner} names upstream '{name.Value}' which is not defined{hint}");
        }

        return null;
    }

    /// <summary>Which action the route has; reports a second action and keys that do not apply to it.</summary>
    private RouteAction CompositionAction(RouteConfig route)
    {
        var action = route.Aggregate is not null ? RouteAction.Aggregate : route.Batch is not null ? RouteAction.Batch : RouteAction.Proxy;
        if (route.Aggregate is not null && route.Batch is not null)
        {
            errors.Add(route.Batch.Position, $"{route.Display} has both 'aggregate' and 'batch': a route has exactly one action");
        }

        if (action != RouteAction.Proxy && route.Upstream is { } upstream)
        {
            var other = action == RouteAction.Aggregate ? "aggregate" : "batch";
            errors.Add(upstream.KeyPosition, $"{route.Display} has both 'upstream' and '{other}': a route has exactly one action (each part of 'aggregate' names its own upstream)");
        }

        if (route.AggregateTimeout is { } timeout && route.Aggregate is null)
        {
            errors.Add(timeout.KeyPosition, $"'aggregate_timeout' only applies to a route with 'aggregate' ({route.Display})");
        }

        if (action != RouteAction.Proxy)
        {
            var what = action == RouteAction.Aggregate ? "an aggregate" : "a batch";
            foreach (var key in s_proxyOnlyKeys)
            {
                if (ProxyKeyPosition(route, key) is { } at)
                {
                    errors.Add(at, $"'{key}' only applies to a route with 'upstream', not to {what} route ({route.Display})");
                }
            }
        }

        return action;
    }

    private static SourcePosition? ProxyKeyPosition(RouteConfig route, string key) => key switch
    {
        "rewrite" => route.Rewrite?.KeyPosition,
        "timeout" => route.Timeout?.KeyPosition,
        "retries" => route.Retries?.KeyPosition,
        "preserve_host" => route.PreserveHost?.KeyPosition,
        _ => route.Cache?.Position,
    };

    private AggregateModel? Aggregate(RouteConfig route, ConfigValue<IReadOnlyList<AggregatePartConfig>> parts, PathTemplate matched, Dictionary<string, UpstreamModel> upstreams)
    {
        var before = errors.Count;
        if (parts.Value.Count == 0)
        {
            errors.Add(parts.Position, $"'aggregate' of {route.Display} needs at least one part");
        }

        var keys = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        var models = new List<AggregatePartModel>(parts.Value.Count);
        for (int i = 0; i < parts.Value.Count; i++)
        {
            if (AggregatePart(parts.Value[i], $"part #{i + 1} of 'aggregate' in {route.Display}", matched, keys, upstreams) is { } part)
            {
                models.Add(part);
            }
        }

        var timeout = route.AggregateTimeout?.Value ?? new AggregateModel { Parts = [] }.Timeout;
        return errors.Count > before ? null : new AggregateModel { Parts = models, Timeout = timeout };
    }

    private AggregatePartModel? AggregatePart(AggregatePartConfig part, string context, PathTemplate matched, Dictionary<string, SourcePosition> keys, Dictionary<string, UpstreamModel> upstreams)
    {
        var before = errors.Count;
        string? key = null;
        if (part.Key is not { } keyText)
        {
            errors.Add(part.Position, $"missing 'key' in {context}");
        }
        else if (!IsPartKey(keyText.Value))
        {
            errors.Add(keyText.Position, $"invalid key '{keyText.Value}' in {context}: {KeyRule}");
        }
        else if (keys.TryGetValue(keyText.Value, out var first))
        {
            errors.Add(keyText.Position, $"key '{keyText.Value}' is already used by the part at line {first.Line}:{first.Column}; each part needs its own key");
        }
        else
        {
            keys.Add(keyText.Value, keyText.Position);
            key = keyText.Value;
        }

        UpstreamModel? upstream = null;
        if (part.Upstream is { } upstreamName)
        {
            upstream = ReferencedUpstream(upstreamName, context, upstreams);
        }
        else
        {
            errors.Add(part.Position, $"missing 'upstream' in {context}");
        }

        RewriteTemplate? path = null;
        if (part.Path is not { } pathText)
        {
            errors.Add(part.Position, $"missing 'path' in {context}");
        }
        else if (!RewriteTemplate.TryCreate(pathText.Value, matched, out path, out var pathError, out var pathOffset))
        {
            errors.Add(InString(pathText, pathOffset), $"invalid path in {context}: {pathError}");
        }

        var method = "GET";
        if (part.Method is { } methodText)
        {
            method = methodText.Value.ToUpperInvariant();
            if (!HttpTokens.IsToken(methodText.Value))
            {
                errors.Add(methodText.Position, $"invalid method '{methodText.Value}' in {context}: a method is a token like \"GET\"");
            }
            else if (method is "HEAD" or "CONNECT" or "OPTIONS" or "TRACE")
            {
                // Their answers carry no JSON document to merge (RFC 9110 sections 9.3.2, 9.3.6-9.3.8).
                errors.Add(methodText.Position, $"method '{method}' in {context} does not answer with a document to merge; use GET or another method with a body in its answer");
            }
        }

        if (errors.Count > before || key is null || upstream is null || path is null)
        {
            return null;
        }

        // JSON-escaped once here; the merger copies these bytes as they are.
        var quoted = JsonSerializer.SerializeToUtf8Bytes(key, s_keyOptions);
        return new AggregatePartModel
        {
            Key = key,
            KeyJson = quoted,
            MemberPrefix = [.. quoted, (byte)':'],
            Upstream = upstream,
            Path = path,
            Method = Encoding.ASCII.GetBytes(method),
            Required = part.Required?.Value ?? true,
        };
    }

    private static readonly JsonSerializerOptions s_keyOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static bool IsPartKey(string key) =>
        key.Length is > 0 and <= 64 && key[0] != '_' && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private BatchModel? Batch(RouteConfig route, BatchConfig batch, IReadOnlyList<string> methods)
    {
        var before = errors.Count;
        var defaults = new BatchModel();
        foreach (var method in methods)
        {
            if (method != "POST")
            {
                var at = route.Match?.Methods?.Position ?? batch.Position;
                errors.Add(at, $"a batch route answers POST only; {route.Display} lists '{method}' (leave 'methods' out or write [\"POST\"])");
                break;
            }
        }

        var maxRequests = (int)InRange(batch.MaxRequests, "max_requests", 1, MaxBatchRequests, defaults.MaxRequests);
        var maxConcurrency = (int)InRange(batch.MaxConcurrency, "max_concurrency", 1, maxRequests, Math.Min(defaults.MaxConcurrency, maxRequests));
        return errors.Count > before ? null : new BatchModel { MaxRequests = maxRequests, MaxConcurrency = maxConcurrency };
    }
}
