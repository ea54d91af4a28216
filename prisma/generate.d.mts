export declare const providers: string[]
/** The provider's schema.prisma text: the generator and datasource header, then models.prisma. */
export declare function composeSchema (provider: string): string
