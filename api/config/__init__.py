"""Site configuration: the bank, its branches and cameras, loaded from versioned YAML."""

from api.config.evidence import EvidenceConfig
from api.config.loader import ConfigError, load_config, parse_config
from api.config.site import BranchConfig, SiteConfig

__all__ = [
    "BranchConfig",
    "ConfigError",
    "EvidenceConfig",
    "SiteConfig",
    "load_config",
    "parse_config",
]
