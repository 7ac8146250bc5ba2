"""Site configuration: the bank, its branches and cameras, loaded from versioned YAML."""

from api.config.loader import ConfigError, load_config, parse_config
from api.config.site import BranchConfig, SiteConfig

__all__ = ["BranchConfig", "ConfigError", "SiteConfig", "load_config", "parse_config"]
