variable "environment" {
  description = "The environment file to read (environments/<environment>.yaml); this root is meant for local."
  type        = string
  default     = "local"
}

variable "ssh_public_keys" {
  description = "SSH public keys the spark user on every host accepts (Ansible logs in with the first one's key)."
  type        = list(string)

  validation {
    condition     = length(var.ssh_public_keys) > 0
    error_message = "ssh_public_keys must hold at least one key: the hosts have no password login."
  }
}
