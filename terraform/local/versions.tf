terraform {
  required_version = ">= 1.6"
  # Built-in resources only (terraform_data): nothing to download.
}
