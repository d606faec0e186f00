variable "name" {
  description = "VM name, also its host name (a DNS label)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be a DNS label: lower-case letters, digits and -, at most 63 characters."
  }
}

variable "node_name" {
  description = "Proxmox node the VM runs on."
  type        = string
}

variable "description" {
  description = "What the VM is for; shown in the Proxmox UI above the disk layout."
  type        = string
  default     = null
}

variable "tags" {
  description = "Proxmox tags (lower-case letters, digits, _ . + -)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for tag in var.tags : can(regex("^[a-z0-9_][a-z0-9_.+-]*$", tag))])
    error_message = "Each tag must be lower-case letters, digits, _ . + or -, not starting with . + or -."
  }
}

variable "vm_id" {
  description = "Proxmox VM ID; null lets Proxmox choose the next free one."
  type        = number
  default     = null

  validation {
    condition     = var.vm_id == null || try(var.vm_id >= 100 && var.vm_id == floor(var.vm_id), false)
    error_message = "vm_id must be a whole number of at least 100 (Proxmox reserves 0-99)."
  }
}

variable "cpu_cores" {
  description = "vCPUs."
  type        = number

  validation {
    condition     = var.cpu_cores >= 1 && var.cpu_cores == floor(var.cpu_cores)
    error_message = "cpu_cores must be a whole number of at least 1."
  }
}

variable "cpu_type" {
  description = "Emulated CPU type. x86-64-v2-AES runs on any current x86 host and keeps live migration possible."
  type        = string
  default     = "x86-64-v2-AES"
}

variable "memory_gb" {
  description = "RAM in GiB, committed in full (no ballooning)."
  type        = number

  validation {
    condition     = var.memory_gb > 0
    error_message = "memory_gb must be greater than 0."
  }
}

variable "datastore_id" {
  description = "Proxmox datastore for the system disk, the data disks and the cloud-init drive, such as local-lvm."
  type        = string
  default     = "local-lvm"
}

variable "image_file_id" {
  description = "Cloud image the system disk is made from, as a Proxmox file ID such as local:iso/debian-12-genericcloud-amd64.img (the id of a proxmox_virtual_environment_download_file)."
  type        = string

  validation {
    condition     = can(regex("^[^:]+:[a-z]+/.+$", var.image_file_id))
    error_message = "image_file_id must be a Proxmox file ID, <datastore>:<content type>/<file name>."
  }
}

variable "system_disk_gb" {
  description = "Size of the system disk (mounted at /) in GiB; at least the cloud image's own size."
  type        = number

  validation {
    condition     = var.system_disk_gb >= 4 && var.system_disk_gb == floor(var.system_disk_gb)
    error_message = "system_disk_gb must be a whole number of at least 4."
  }
}

variable "data_disks" {
  description = "Empty data disks after the system disk, in order: scsi1, scsi2, ... The mount point and description are not seen by Proxmox; they go into the VM's description so the UI shows which disk is which, and Ansible formats and mounts them."
  type = list(object({
    mount       = string
    size_gb     = number
    description = optional(string)
  }))
  default = []

  validation {
    condition     = alltrue([for d in var.data_disks : d.size_gb >= 1 && d.size_gb == floor(d.size_gb)])
    error_message = "Each data disk's size_gb must be a whole number of at least 1."
  }
  validation {
    condition     = alltrue([for d in var.data_disks : can(regex("^/[A-Za-z0-9._/-]+$", d.mount))])
    error_message = "Each data disk's mount must be an absolute path other than /, such as /var/lib/docker."
  }
  validation {
    # scsi0 is the system disk; virtio-scsi-single has 31 slots.
    condition     = length(var.data_disks) <= 30
    error_message = "At most 30 data disks."
  }
}

variable "ipv4_address" {
  description = "Static address in CIDR form, such as 192.168.1.101/24."
  type        = string

  validation {
    condition     = can(cidrhost(var.ipv4_address, 0)) && can(regex("^[0-9.]+/[0-9]+$", var.ipv4_address))
    error_message = "ipv4_address must be an IPv4 address with its prefix length, such as 192.168.1.101/24."
  }
}

variable "gateway" {
  description = "IPv4 default gateway."
  type        = string

  validation {
    condition     = can(cidrhost("${var.gateway}/32", 0))
    error_message = "gateway must be an IPv4 address, such as 192.168.1.1."
  }
}

variable "dns_servers" {
  description = "Resolvers, in order."
  type        = list(string)

  validation {
    condition     = length(var.dns_servers) > 0 && alltrue([for s in var.dns_servers : can(cidrhost("${s}/32", 0))])
    error_message = "dns_servers must be a non-empty list of IPv4 addresses."
  }
}

variable "bridge" {
  description = "Proxmox bridge the network device attaches to."
  type        = string
  default     = "vmbr0"
}

variable "vlan_id" {
  description = "VLAN tag of the network device; null for untagged."
  type        = number
  default     = null

  validation {
    condition     = var.vlan_id == null || try(var.vlan_id >= 1 && var.vlan_id <= 4094, false)
    error_message = "vlan_id must be between 1 and 4094, or null for untagged."
  }
}

variable "username" {
  description = "Account cloud-init creates, with sudo; Ansible connects as this user."
  type        = string
  default     = "spark"
}

variable "ssh_public_keys" {
  description = "SSH public keys (OpenSSH format) allowed to log in as username."
  type        = list(string)

  validation {
    condition     = length(var.ssh_public_keys) > 0
    error_message = "ssh_public_keys must hold at least one key: cloud images have no password login."
  }
  validation {
    condition     = alltrue([for k in var.ssh_public_keys : can(regex("^(ssh|ecdsa|sk)-[a-z0-9@.-]+ [A-Za-z0-9+/=]+", trimspace(k)))])
    error_message = "Each ssh_public_keys entry must be an OpenSSH public key line, such as ssh-ed25519 AAAA... comment."
  }
}

variable "vendor_data_file_id" {
  description = "Optional cloud-init vendor data snippet (a Proxmox file ID), such as one that installs qemu-guest-agent."
  type        = string
  default     = null
}

variable "protected" {
  description = "Sets Proxmox's protection flag: Proxmox then refuses to delete the VM or its disks, whatever Terraform plans."
  type        = bool
  default     = false
}

variable "started" {
  description = "Whether the VM runs (and starts when the node boots)."
  type        = bool
  default     = true
}
