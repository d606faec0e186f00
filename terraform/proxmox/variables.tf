variable "environment" {
  description = "Which environments/<environment>.yaml to build, such as production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.environment))
    error_message = "environment must be a lower-case name (letters, digits and -), such as production."
  }
}

variable "proxmox_endpoint" {
  description = "Proxmox API URL, such as https://192.168.1.100:8006/. null: the hypervisor's address from the environment file (or PROXMOX_VE_ENDPOINT when set)."
  type        = string
  default     = null
}

variable "proxmox_api_token" {
  description = "Proxmox API token, user@realm!name=secret. null: taken from PROXMOX_VE_API_TOKEN."
  type        = string
  default     = null
  sensitive   = true
}

variable "proxmox_insecure" {
  description = "Skip TLS verification of the Proxmox API (a fresh Proxmox VE has a self-signed certificate)."
  type        = bool
  default     = false
}

variable "proxmox_ssh_username" {
  description = "Node account the provider uses over SSH (through ssh-agent) to import the cloud image into disks and to upload snippets; API tokens cannot do either."
  type        = string
  default     = "root"
}

variable "ssh_public_keys" {
  description = "SSH public keys allowed to log in to every VM as vm_username."
  type        = list(string)

  validation {
    condition     = length(var.ssh_public_keys) > 0
    error_message = "ssh_public_keys must hold at least one key: cloud images have no password login."
  }
}

variable "vm_username" {
  description = "Account cloud-init creates on every VM; Ansible connects as this user."
  type        = string
  default     = "spark"
}

variable "cloud_image_url" {
  description = "Cloud image the VMs' system disks are made from (qcow2 with cloud-init)."
  type        = string
  default     = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
}

variable "cloud_image_datastore" {
  description = "File datastore on the node that keeps the downloaded cloud image and the cloud-init snippet (needs the iso and snippets content types)."
  type        = string
  default     = "local"
}
