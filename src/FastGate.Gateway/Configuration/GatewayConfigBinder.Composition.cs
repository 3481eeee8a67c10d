namespace FastGate.Gateway.Configuration;

// The composition actions of a route: aggregate (fan out, merge the JSON answers) and batch.
internal static partial class GatewayConfigBinder
{
    private static ConfigValue<IReadOnlyList<AggregatePartConfig>>? BindAggregate(TableReader route, TomlEntry entry)
    {
        // Both forms of an array of tables are accepted: an inline array and [[routes.aggregate]] sections.
        if (entry.Value is not TomlArrayNode array)
        {
            route.WrongType(entry, "an array of tables like [{ key = \"user\", upstream = \"users\", path = \"/users/{id}\" }]");
            return null;
        }

        var parts = new List<AggregatePartConfig>(array.Items.Count);
        foreach (var item in array.Items)
        {
            if (item is not TomlTableNode table)
            {
                route.Errors.Add(item.Position, $"each item of 'aggregate' must be a table like {{ key = \"user\", upstream = \"users\", path = \"/users/{{id}}\" }}, not {item.TypeName}");
                continue;
            }

            var reader = new TableReader(table, $"part #{parts.Count + 1} of 'aggregate' in {route.Context}", route.Errors);
            parts.Add(new AggregatePartConfig
            {
                Position = table.Position,
                Key = reader.String("key"),
                Upstream = reader.String("upstream"),
                Path = reader.String("path"),
                Method = reader.String("method"),
                Required = reader.Boolean("required"),
            });
            reader.ReportUnknownKeys();
        }

        return new ConfigValue<IReadOnlyList<AggregatePartConfig>>(parts, entry.KeyPosition, array.Position);
    }

    private static BatchConfig BindBatch(TomlTableNode table, TomlEntry entry, string route, ConfigErrorList errors)
    {
        var reader = new TableReader(table, $"the batch of {route}", errors);
        var config = new BatchConfig
        {
            Position = entry.KeyPosition,
            MaxRequests = reader.Integer("max_requests"),
            MaxConcurrency = reader.Integer("max_concurrency"),
        };
        reader.ReportUnknownKeys();
        return config;
    }
}
