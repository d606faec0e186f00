terraform {
  required_version = ">= 1.6"

  required_providers {
    proxmox = {
      source = "bpg/proxmox"
      # Minor releases of the provider still rename and deprecate arguments; move on deliberately.
      version = "~> 0.78.0"
    }
  }
}
