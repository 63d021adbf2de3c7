using Npgsql;

namespace AgentVerse.Runtime.Tests.Postgres;

[Collection(PostgresTests.Name)]
public sealed class PostgresClusterTests(PostgresCluster cluster)
{
    [Fact]
    public async Task The_cluster_serves_its_database_and_creates_isolated_ones()
    {
        await using (var connection = new NpgsqlConnection(cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT current_database(), inet_server_addr()::text, current_setting('server_version_num')::int", connection);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("agentverse_test", reader.GetString(0));
            Assert.StartsWith("127.0.0.1", reader.GetString(1), StringComparison.Ordinal);
            Assert.True(reader.GetInt32(2) >= 130000, "gen_random_uuid needs PostgreSQL 13+");
        }

        var other = await cluster.CreateDatabaseAsync();
        await using (var connection = new NpgsqlConnection(other))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE only_here (x int)", connection);
            await create.ExecuteNonQueryAsync();
        }
        await using (var connection = new NpgsqlConnection(cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var probe = new NpgsqlCommand("SELECT to_regclass('only_here') IS NULL", connection);
            Assert.True((bool)(await probe.ExecuteScalarAsync())!);
        }
        Assert.True(Directory.Exists(cluster.DataDirectory));
    }
}
