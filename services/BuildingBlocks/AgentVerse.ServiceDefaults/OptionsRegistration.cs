using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentVerse.ServiceDefaults;

/// <summary>Options bound from configuration and validated deeply when the service starts.</summary>
public static class OptionsRegistration
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to <paramref name="section"/> and validates it on start with
    /// <typeparamref name="TValidator"/>, a source-generated <c>[OptionsValidator]</c> that also checks nested objects
    /// (<c>[ValidateObjectMembers]</c>) and collection items (<c>[ValidateEnumeratedItems]</c>), so a wrong nested
    /// setting stops start-up with its member named instead of failing the first request that uses it.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }
}
