"""The action table: EC2 action name -> function of a Call returning the response body."""
from __future__ import annotations

from one.econe.actions import addresses, images, instances, keypairs, launch, tags, zones
from one.econe.app import Action

ACTIONS: dict[str, Action] = {
    "DescribeRegions": zones.describe_regions,
    "DescribeAvailabilityZones": zones.describe_zones,
    "DescribeInstanceTypes": zones.describe_instance_types,
    "DescribeImages": images.describe_images,
    "RegisterImage": images.register_image,
    "DeregisterImage": images.deregister_image,
    "RunInstances": launch.run_instances,
    "DescribeInstances": instances.describe_instances,
    "StopInstances": launch.stop_instances,
    "StartInstances": launch.start_instances,
    "RebootInstances": launch.reboot_instances,
    "TerminateInstances": launch.terminate_instances,
    "CreateKeyPair": keypairs.create_key_pair,
    "ImportKeyPair": keypairs.import_key_pair,
    "DescribeKeyPairs": keypairs.describe_key_pairs,
    "DeleteKeyPair": keypairs.delete_key_pair,
    "CreateTags": tags.create_tags,
    "DeleteTags": tags.delete_tags,
    "DescribeTags": tags.describe_tags,
    "AllocateAddress": addresses.allocate_address,
    "DescribeAddresses": addresses.describe_addresses,
    "AssociateAddress": addresses.associate_address,
    "DisassociateAddress": addresses.disassociate_address,
    "ReleaseAddress": addresses.release_address,
}
