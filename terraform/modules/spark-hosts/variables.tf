variable "environment_file" {
  description = "Path to an environment file (environments/<name>.yaml), the one source of truth for hosts and network."
  type        = string
  nullable    = false

  validation {
    condition     = can(yamldecode(file(var.environment_file)))
    error_message = "environment_file must be a readable YAML file, such as environments/production.yaml."
  }
}
